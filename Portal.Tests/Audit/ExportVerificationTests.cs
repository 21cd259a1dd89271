using Microsoft.Extensions.DependencyInjection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Portal.App.Audit;
using Portal.Data.Audit;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Audit;

/// <summary>
/// `Portal.App verify-export`, as an auditor runs it on a file handed to them: a real export holds; each way of altering
/// it (an edited field, a forger who also rehashes the row and the manifest, a row removed, rows swapped, a cut file,
/// an edited CSV cell) is named. And it runs with no database or settings at all.
/// </summary>
public sealed class ExportVerificationTests : IAsyncLifetime
{
    private readonly SqliteTestDatabase database = new();
    private PortalHost host = null!;
    private Scenario scenario = null!;
    private HttpClient compliance = null!;

    public async Task InitializeAsync()
    {
        host = new PortalHost(database);
        scenario = await Scenario.CreateAsync(host.Services);
        var staff = host.CreateBrowserLikeClient();
        await SignIn.AsDemoUserAsync(staff, "staff");
        for (var i = 0; i < 4; i++) await staff.GetAsync($"/d/{scenario.SharedDocumentId}");
        await staff.GetAsync($"/d/{scenario.RestrictedDocumentId}");
        compliance = host.CreateBrowserLikeClient();
        await SignIn.AsDemoUserAsync(compliance, "compliance");
    }

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        await database.DisposeAsync();
    }

    private static async Task<ExportVerification.Result> CheckAsync(byte[] file, AuditHeadSigner? key = null) =>
        await ExportVerification.CheckAsync(new MemoryStream(file), key: key);

    /// <summary>The portal's public audit key, as an auditor is handed it.</summary>
    private AuditHeadSigner PublicKey() => AuditHeadSigner.FromPem(host.Services.GetRequiredService<AuditSigningKeys>().Signer!.PublicKeyPem());

    [Fact]
    public async Task A_trimmed_export_with_a_recomputed_manifest_fails_verify_export()
    {
        var file = Encoding.UTF8.GetString(await compliance.GetByteArrayAsync("/audit/export.jsonl"));
        var lines = file.TrimEnd('\n').Split('\n').ToList();
        var manifest = JsonNode.Parse(lines[^1])!;
        Assert.True((await CheckAsync(Encoding.UTF8.GetBytes(file), PublicKey())).Holds);

        // The owner drops the newest rows (the export's own record among them) and recomputes every sum, as the log itself
        // was cut: the rows still link, the chain head is the new last row.
        var rows = lines[..^3];
        var last = JsonNode.Parse(rows[^1])!;
        var m = manifest["manifest"]!;
        var data = string.Join("", rows.Select(r => r + "\n"));
        m["rows"] = rows.Count;
        m["lastId"] = last["Id"]!.GetValue<long>();
        m["chainHeadId"] = last["Id"]!.GetValue<long>();
        m["lastHash"] = last["Hash"]!.GetValue<string>();
        m["chainHeadHash"] = last["Hash"]!.GetValue<string>();
        m["exportEventId"] = last["Id"]!.GetValue<long>();
        m["sha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(data)));
        var forged = Encoding.UTF8.GetBytes(data + manifest.ToJsonString() + "\n");

        Assert.True((await CheckAsync(forged)).Holds, "without the key the recomputed manifest holds: that was the gap");
        var result = await CheckAsync(forged, PublicKey());
        Assert.False(result.Holds);
        Assert.Contains("The manifest's signature does not hold", result.Describe());

        // Re-signed with a key of the forger's own: still not the portal's.
        using var other = AuditHeadSigner.FromPem(AuditHeadSigner.NewPrivateKeyPem());
        m["signature"] = other.SignBytes(Encoding.UTF8.GetBytes("anything"));
        Assert.Contains("does not hold", (await CheckAsync(Encoding.UTF8.GetBytes(data + manifest.ToJsonString() + "\n"), PublicKey())).Describe());
    }

    [Fact]
    public async Task The_zip_export_holds_the_file_and_its_signed_manifest_apart_and_a_trimmed_one_fails()
    {
        var bytes = await compliance.GetByteArrayAsync("/audit/export.csv.zip");
        using (var archive = new System.IO.Compression.ZipArchive(new MemoryStream(bytes)))
        {
            Assert.Equal(2, archive.Entries.Count);
            Assert.NotNull(archive.GetEntry(ExportVerification.ManifestFileName));
            var csv = archive.Entries.Single(e => e.Name != ExportVerification.ManifestFileName);
            Assert.Matches(@"^audit-\d{8}-\d{6}\.csv$", csv.Name);
            using var data = new MemoryStream();
            using (var entry = csv.Open()) entry.CopyTo(data);
            Assert.Equal(new byte[] { 0xEF, 0xBB, 0xBF }, data.ToArray()[..3]); // opens in Excel with accents intact
            var text = Encoding.UTF8.GetString(data.ToArray());
            Assert.DoesNotContain(AuditExportEndpoints.ManifestPrefix, text); // the manifest is its own file
            Assert.EndsWith("\r\n", text);
        }
        var holds = await ExportVerification.CheckZipAsync(new MemoryStream(bytes), key: PublicKey());
        Assert.True(holds.Holds, holds.Describe());

        // JSON Lines in a ZIP, trimmed by two rows, every sum of the manifest recomputed, zipped again.
        var jsonl = await compliance.GetByteArrayAsync("/audit/export.jsonl.zip");
        Assert.True((await ExportVerification.CheckZipAsync(new MemoryStream(jsonl), key: PublicKey())).Holds);
        string name, rowsText, manifestText;
        using (var archive = new System.IO.Compression.ZipArchive(new MemoryStream(jsonl)))
        {
            var dataEntry = archive.Entries.Single(e => e.Name != ExportVerification.ManifestFileName);
            name = dataEntry.Name;
            rowsText = new StreamReader(dataEntry.Open()).ReadToEnd();
            manifestText = new StreamReader(archive.GetEntry(ExportVerification.ManifestFileName)!.Open()).ReadToEnd();
        }
        var rows = rowsText.TrimEnd('\n').Split('\n')[..^2];
        var last = JsonNode.Parse(rows[^1])!;
        var manifest = JsonNode.Parse(manifestText)!;
        var m = manifest["manifest"]!;
        var trimmed = string.Join("", rows.Select(r => r + "\n"));
        m["rows"] = rows.Length;
        m["lastId"] = last["Id"]!.GetValue<long>();
        m["lastHash"] = last["Hash"]!.GetValue<string>();
        m["sha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(trimmed)));
        var forged = new MemoryStream();
        using (var archive = new System.IO.Compression.ZipArchive(forged, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            using (var w = new StreamWriter(archive.CreateEntry(name).Open())) w.Write(trimmed);
            using (var w = new StreamWriter(archive.CreateEntry(ExportVerification.ManifestFileName).Open())) w.Write(manifest.ToJsonString());
        }
        forged.Position = 0;
        var refused = await ExportVerification.CheckZipAsync(forged, key: PublicKey());
        Assert.False(refused.Holds);
        Assert.Contains("The manifest's signature does not hold", refused.Describe());
    }

    [Fact]
    public async Task The_export_is_refused_when_its_own_event_is_newer_than_the_manifests_chain_head()
    {
        var file = Encoding.UTF8.GetString(await compliance.GetByteArrayAsync("/audit/export.jsonl"));
        var lines = file.TrimEnd('\n').Split('\n').ToList();
        var manifest = JsonNode.Parse(lines[^1])!;
        manifest["manifest"]!["exportEventId"] = manifest["manifest"]!["chainHeadId"]!.GetValue<long>() + 1;
        var result = await CheckAsync(Encoding.UTF8.GetBytes(string.Join("", lines[..^1].Select(r => r + "\n")) + manifest.ToJsonString() + "\n"), PublicKey());
        Assert.Contains("is newer than the chain head in the manifest", result.Describe());
    }

    [Fact]
    public async Task The_csv_starts_with_a_byte_order_mark_and_a_name_with_accents_round_trips()
    {
        await host.Services.GetRequiredService<AuditLog>().AppendAsync(new AuditEvent
        {
            Action = AuditAction.DocumentDownloaded, Outcome = AuditOutcome.Allowed, ActorDisplayName = "Zoë Ångström", TargetName = "résumé été.pdf",
        });
        var bytes = await compliance.GetByteArrayAsync("/audit/export.csv");
        Assert.Equal(new byte[] { 0xEF, 0xBB, 0xBF }, bytes[..3]);
        var text = new StreamReader(new MemoryStream(bytes), Encoding.UTF8).ReadToEnd();
        Assert.StartsWith("Id,OccurredAt,", text);
        Assert.Contains("Zoë Ångström", text);
        Assert.Contains("résumé été.pdf", text);
        var result = await CheckAsync(bytes, PublicKey());
        Assert.True(result.Holds, result.Describe());
        Assert.Contains("signed by the portal's key", result.Summary);
    }

    [Fact]
    public async Task Untouched_exports_hold_in_both_formats_whole_or_filtered()
    {
        var whole = await CheckAsync(await compliance.GetByteArrayAsync("/audit/export.jsonl"));
        Assert.True(whole.Holds, whole.Describe());
        // Settings, two sign-ins, five downloads, this export's own record.
        Assert.StartsWith("The export holds: 9 events, #1 to #9, JSON Lines, exported ", whole.Summary);
        Assert.Contains("by Cora Compliance (audit event #9); filter: none (the whole log).", whole.Summary);
        Assert.Contains("with none missing; every row rehashes to its hash.", whole.Summary);
        var head = (await host.AuditEventsAsync()).Single(e => e.Id == 9);
        Assert.Contains($"if event #9 in the live log still has hash {head.Hash} (and verify-audit passes there), every row of this file is the portal's own.", whole.Summary);

        var csv = await CheckAsync(await compliance.GetByteArrayAsync("/audit/export.csv"));
        Assert.True(csv.Holds, csv.Describe());
        Assert.Contains("CSV cannot be rehashed exactly", csv.Summary);

        // A long check tells how far it got as it goes (the command prints it on stderr).
        var told = new List<long>();
        await ExportVerification.CheckAsync(new MemoryStream(await compliance.GetByteArrayAsync("/audit/export.jsonl")), progress: told.Add, progressEvery: 2);
        Assert.Equal([2, 4, 6, 8, 10], told); // the nine above and the first export's own record

        var filtered = await CheckAsync(await compliance.GetByteArrayAsync($"/audit/export.jsonl?document={scenario.SharedDocumentId}&action=DocumentDownloaded"));
        Assert.True(filtered.Holds, filtered.Describe());
        Assert.StartsWith("The export holds: 4 events", filtered.Summary);
        Assert.DoesNotContain("none missing", filtered.Summary);
    }

    public static TheoryData<string, string> Alterations => new()
    {
        { "a field edited", "Row 4 (event #4) does not rehash to its hash: one of its fields was changed." },
        { "a field edited, the row rehashed and the manifest re-summed", "Row 5 (event #5) does not link to event #4 before it" },
        { "a field edited and every row from it rehashed and relinked, the manifest's sums too",
            "The last row is event #9, the chain head the manifest names, but its hash is not chainHeadHash." },
        { "a row removed and the manifest fixed", "Events #4 to #4 are missing before row 4" },
        { "two rows of a filtered export swapped and the manifest re-summed", "Row 3 (event #4) comes after event #5: rows were moved." },
        { "the file cut short", "Its last line is not a manifest: the export was interrupted or cut" },
    };

    [Theory]
    [MemberData(nameof(Alterations))]
    public async Task An_altered_json_lines_export_is_refused_naming_what_changed(string alteration, string expected)
    {
        var filtered = alteration.Contains("filtered");
        var file = Encoding.UTF8.GetString(await compliance.GetByteArrayAsync(
            filtered ? $"/audit/export.jsonl?document={scenario.SharedDocumentId}&action=DocumentDownloaded" : "/audit/export.jsonl"));
        var lines = file.TrimEnd('\n').Split('\n').ToList();
        var manifest = JsonNode.Parse(lines[^1])!;
        var rows = lines[..^1];

        switch (alteration)
        {
            case "a field edited":
                rows[3] = Edit(rows[3], rehash: false);
                break;
            case "a field edited, the row rehashed and the manifest re-summed":
                rows[3] = Edit(rows[3], rehash: true);
                break;
            case "a field edited and every row from it rehashed and relinked, the manifest's sums too":
                var previous = JsonNode.Parse(rows[2])!["Hash"]!.GetValue<string>();
                for (var i = 3; i < rows.Count; i++)
                {
                    rows[i] = Edit(rows[i], rehash: true, clientIp: i == 3 ? "10.9.9.9" : null, previousHash: previous);
                    previous = JsonNode.Parse(rows[i])!["Hash"]!.GetValue<string>();
                }
                manifest["manifest"]!["lastHash"] = previous;
                break;
            case "a row removed and the manifest fixed":
                rows.RemoveAt(3);
                manifest["manifest"]!["rows"] = rows.Count;
                break;
            case "two rows of a filtered export swapped and the manifest re-summed":
                (rows[1], rows[2]) = (rows[2], rows[1]);
                break;
            case "the file cut short":
                rows.RemoveRange(6, rows.Count - 6);
                var cut = string.Join("", rows.Select(r => r + "\n"));
                var cutResult = await CheckAsync(Encoding.UTF8.GetBytes(cut[..^20]));
                Assert.False(cutResult.Holds);
                Assert.Contains(expected, cutResult.Describe());
                return;
        }
        var data = string.Join("", rows.Select(r => r + "\n"));
        if (alteration != "a field edited")
            manifest["manifest"]!["sha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(data)));

        var result = await CheckAsync(Encoding.UTF8.GetBytes(data + manifest.ToJsonString() + "\n"));

        Assert.False(result.Holds);
        Assert.Contains(expected, result.Describe());
        // Only what is wrong: the first bad row, and the SHA-256 when the manifest was not re-summed.
        Assert.Equal(alteration == "a field edited" ? 2 : 1, result.Problems.Count);
        if (alteration == "a field edited") Assert.Contains("The bytes before the manifest were changed", result.Describe());
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("Id,OccurredAt\n1,2\n")]
    public async Task A_file_that_is_not_an_export_is_refused(string text)
    {
        var result = await CheckAsync(Encoding.UTF8.GetBytes(text));
        Assert.False(result.Holds);
        Assert.Equal(["Its last line is not a manifest: the export was interrupted or cut, or this is not a Portal audit export."], result.Problems);
    }

    /// <summary>
    /// Changes a row's client IP (a forger covering a visit) and, optionally, its link to the row before; then recomputes
    /// its hash as a forger would, or not.
    /// </summary>
    private static string Edit(string row, bool rehash, string? clientIp = "10.9.9.9", string? previousHash = null)
    {
        var options = new JsonSerializerOptions { Converters = { new JsonStringEnumConverter() } };
        var e = JsonSerializer.Deserialize<AuditEvent>(row, options)!;
        var node = JsonNode.Parse(row)!;
        if (clientIp is not null) node["ClientIp"] = e.ClientIp = clientIp;
        if (previousHash is not null) node["PreviousHash"] = e.PreviousHash = previousHash;
        if (rehash) node["Hash"] = AuditChain.ComputeHash(e);
        return node.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    /// <summary>Downloads whose events carry a Sec-Fetch-Site (issue 25): a bookmark ("none") and a click on our own page.</summary>
    private async Task DownloadWithFetchSitesAsync()
    {
        var staff = host.CreateBrowserLikeClient();
        await SignIn.AsDemoUserAsync(staff, "staff");
        foreach (var site in new[] { "none", "same-origin" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/d/{scenario.SharedDocumentId}");
            request.Headers.TryAddWithoutValidation("Sec-Fetch-Site", site);
            Assert.True((await staff.SendAsync(request)).IsSuccessStatusCode);
        }
    }

    /// <summary>The manifest re-signed with the portal's own key: what the portal itself would have written for these bytes.</summary>
    private JsonNode SignedAsThePortal(JsonNode manifestLine, string data)
    {
        var m = manifestLine["manifest"]!;
        m["sha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(data)));
        var parsed = JsonSerializer.Deserialize<ExportVerification.ManifestLine>(manifestLine.ToJsonString(), ExportVerification.ManifestJson)!.Manifest!;
        m["signature"] = host.Services.GetRequiredService<AuditSigningKeys>().Signer!.SignBytes(ExportVerification.Canonical(parsed));
        return manifestLine;
    }

    [Fact]
    public async Task The_fetch_site_is_exported_in_both_formats_and_a_changed_one_fails_verify_export()
    {
        await DownloadWithFetchSitesAsync();
        var file = Encoding.UTF8.GetString(await compliance.GetByteArrayAsync("/audit/export.jsonl"));
        Assert.True((await CheckAsync(Encoding.UTF8.GetBytes(file), PublicKey())).Holds);
        var lines = file.TrimEnd('\n').Split('\n').ToList();
        var rows = lines[..^1];
        var bookmarked = rows.FindIndex(r => JsonNode.Parse(r)!["FetchSite"]?.GetValue<string>() == "none");
        Assert.True(bookmarked >= 0, "the bookmark's download is exported with its FetchSite");
        Assert.Contains(rows, r => JsonNode.Parse(r)!["FetchSite"]?.GetValue<string>() == "same-origin");

        var csv = await compliance.GetByteArrayAsync("/audit/export.csv");
        Assert.True((await CheckAsync(csv, PublicKey())).Holds);
        Assert.Contains(",FetchSite,", Encoding.UTF8.GetString(csv).Split('\n')[0]);
        Assert.Contains(",same-origin,", Encoding.UTF8.GetString(csv));

        // Changed (or removed) by someone who also re-sums the manifest: the row no longer rehashes. With the key, the
        // manifest's signature fails as well.
        foreach (var forged in new string?[] { "cross-site", null })
        {
            var edited = rows.ToList();
            var node = JsonNode.Parse(edited[bookmarked])!;
            node["FetchSite"] = forged;
            edited[bookmarked] = node.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            var data = string.Join("", edited.Select(r => r + "\n"));
            var manifest = JsonNode.Parse(lines[^1])!;
            manifest["manifest"]!["sha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(data)));
            var tampered = Encoding.UTF8.GetBytes(data + manifest.ToJsonString() + "\n");

            var result = await CheckAsync(tampered);
            Assert.False(result.Holds);
            Assert.Contains($"Row {bookmarked + 1} (event #{node["Id"]}) does not rehash to its hash", result.Describe());
            Assert.Contains("signature does not hold", (await CheckAsync(tampered, PublicKey())).Describe());
        }
    }

    /// <summary>An export written before the FetchSite column existed (no such field, no such column) still verifies.</summary>
    [Fact]
    public async Task An_export_made_before_the_fetch_site_column_existed_still_verifies()
    {
        // The log as it was then: no event has a FetchSite (the test's own requests send no Sec-Fetch headers).
        Assert.All(await host.AuditEventsAsync(), e => Assert.Null(e.FetchSite));
        var file = Encoding.UTF8.GetString(await compliance.GetByteArrayAsync("/audit/export.jsonl"));
        var lines = file.TrimEnd('\n').Split('\n');
        var old = string.Join("", lines[..^1].Select(r =>
        {
            var node = JsonNode.Parse(r)!.AsObject();
            Assert.True(node.Remove("FetchSite"));
            return node.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
        }));
        Assert.DoesNotContain("FetchSite", old);
        var jsonl = await CheckAsync(Encoding.UTF8.GetBytes(old + SignedAsThePortal(JsonNode.Parse(lines[^1])!, old).ToJsonString() + "\n"), PublicKey());
        Assert.True(jsonl.Holds, jsonl.Describe());
        Assert.Contains("every row rehashes to its hash", jsonl.Summary);

        // CSV: the columns of then, each row without the FetchSite cell.
        var csvText = Encoding.UTF8.GetString(await compliance.GetByteArrayAsync("/audit/export.csv"));
        var csvLines = csvText.TrimEnd('\n').Split('\n');
        var at = Array.IndexOf(AuditExportEndpoints.Columns, "FetchSite");
        var oldCsv = new StringBuilder();
        foreach (var line in csvLines[..^1])
        {
            var cells = CsvCells(line.TrimEnd('\r'));
            Assert.Equal(AuditExportEndpoints.Columns.Length, cells.Count);
            Assert.True(cells[at] is "" or "FetchSite");
            cells.RemoveAt(at);
            oldCsv.Append(string.Join(',', cells)).Append("\r\n");
        }
        var oldData = oldCsv.ToString();
        Assert.StartsWith("\uFEFF" + string.Join(',', AuditExportEndpoints.ColumnsBeforeFetchSite) + "\r\n", oldData);
        var manifestLine = JsonNode.Parse(csvLines[^1][AuditExportEndpoints.ManifestPrefix.Length..])!;
        var csv = await CheckAsync(Encoding.UTF8.GetBytes(oldData + AuditExportEndpoints.ManifestPrefix + SignedAsThePortal(manifestLine, oldData).ToJsonString() + "\n"), PublicKey());
        Assert.True(csv.Holds, csv.Describe());
    }

    /// <summary>Splits one CSV line into its cells as written (quotes kept), for moving whole cells around.</summary>
    private static List<string> CsvCells(string line)
    {
        var cells = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        foreach (var c in line)
        {
            if (c == '"') quoted = !quoted;
            if (c == ',' && !quoted) { cells.Add(cell.ToString()); cell.Clear(); }
            else cell.Append(c);
        }
        cells.Add(cell.ToString());
        return cells;
    }

    [Fact]
    public async Task An_edited_csv_cell_is_refused()
    {
        var file = Encoding.UTF8.GetString(await compliance.GetByteArrayAsync("/audit/export.csv"));
        var edited = file.Replace("Sam Staff", "Someone Else");
        Assert.NotEqual(file, edited);

        var result = await CheckAsync(Encoding.UTF8.GetBytes(edited));

        Assert.False(result.Holds);
        Assert.Contains("The bytes before the manifest were changed", result.Describe());
    }

    [Fact]
    public async Task The_command_runs_on_an_auditors_machine_with_no_database_or_settings()
    {
        var folder = TestEnvironment.NewTempFolder("export-check");
        var good = Path.Combine(folder, "audit.jsonl");
        await File.WriteAllBytesAsync(good, await compliance.GetByteArrayAsync("/audit/export.jsonl"));
        var bad = Path.Combine(folder, "audit-edited.jsonl");
        await File.WriteAllTextAsync(bad, (await File.ReadAllTextAsync(good)).Replace("Sam Staff", "Someone Else"));
        var nothing = new Dictionary<string, string>();
        var key = Path.Combine(folder, "audit-signing-key.pub.pem");
        await File.WriteAllTextAsync(key, PublicKey().PublicKeyPem());

        var unkeyed = await AppProcess.RunUntilExitAsync(nothing, TimeSpan.FromSeconds(60), ExportVerification.Command, good);
        Assert.Equal(1, unkeyed.ExitCode);
        Assert.Contains("--key", unkeyed.StandardOutput);

        var holds = await AppProcess.RunUntilExitAsync(nothing, TimeSpan.FromSeconds(60), ExportVerification.Command, good, "--key", key);
        Assert.Equal(0, holds.ExitCode);
        Assert.Contains("The export holds: 9 events", holds.StandardOutput);

        var refused = await AppProcess.RunUntilExitAsync(nothing, TimeSpan.FromSeconds(60), ExportVerification.Command, bad, "--key", key);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("The export does NOT hold", refused.StandardOutput);
        Assert.Contains("does not rehash to its hash", refused.StandardOutput);

        var missing = await AppProcess.RunUntilExitAsync(nothing, TimeSpan.FromSeconds(60), ExportVerification.Command, Path.Combine(folder, "nope.jsonl"), "--key", key);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("No such file", missing.StandardOutput);
    }
}
