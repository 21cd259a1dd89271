using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CsvHelper;
using Microsoft.Extensions.DependencyInjection;
using Portal.App.Audit;
using Portal.Data.Audit;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Audit;

/// <summary>
/// GET /audit/export.csv and .jsonl as an auditor uses them: the rows of the filter, a manifest that checks out
/// against the file and the live chain, formulas defused in CSV, exact values in JSON Lines, compliance officers only.
/// </summary>
public sealed class AuditExportTests : IAsyncLifetime
{
    private readonly SqliteTestDatabase database = new();
    private PortalHost host = null!;
    private Scenario scenario = null!;

    public async Task InitializeAsync()
    {
        host = new PortalHost(database);
        scenario = await Scenario.CreateAsync(host.Services);
        var staff = host.CreateBrowserLikeClient();
        await SignIn.AsDemoUserAsync(staff, "staff");
        for (var i = 0; i < 3; i++) await staff.GetAsync($"/d/{scenario.SharedDocumentId}");
        await staff.GetAsync($"/d/{scenario.RestrictedDocumentId}");
        // A hostile name that a spreadsheet would run as a formula, recorded as it was given.
        var audit = host.Services.GetRequiredService<AuditLog>();
        await audit.AppendAsync(new AuditEvent { Action = AuditAction.DocumentUploaded, Outcome = AuditOutcome.Denied, TargetName = "=HYPERLINK(\"http://evil\",\"x\")", Reason = "-2+3" });
    }

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        await database.DisposeAsync();
    }

    private async Task<HttpClient> SignedInAsync(string who)
    {
        var client = host.CreateBrowserLikeClient();
        await SignIn.AsDemoUserAsync(client, who);
        return client;
    }

    /// <summary>Splits an export into its data and its manifest, and checks the manifest's SHA-256 against the data.</summary>
    private static (string Data, JsonElement Manifest) Split(byte[] body, bool csv)
    {
        var text = Encoding.UTF8.GetString(body);
        var lastLineStart = text.LastIndexOf('\n', text.Length - 2) + 1;
        var data = text[..lastLineStart];
        var manifestLine = text[lastLineStart..].TrimEnd('\n');
        if (csv)
        {
            Assert.StartsWith(AuditExportEndpoints.ManifestPrefix, manifestLine);
            manifestLine = manifestLine[AuditExportEndpoints.ManifestPrefix.Length..];
        }
        var manifest = JsonDocument.Parse(manifestLine).RootElement.GetProperty("manifest");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(data))), manifest.GetProperty("sha256").GetString());
        return (data, manifest);
    }

    [Fact]
    public async Task A_csv_export_holds_the_filtered_rows_and_a_manifest_that_checks_out()
    {
        var compliance = await SignedInAsync("compliance");
        var response = await compliance.GetAsync($"/audit/export.csv?action=DocumentDownloaded&outcome=Allowed&document={scenario.SharedDocumentId}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Matches("^attachment; filename=\"audit-\\d{8}-\\d{6}\\.csv\"$", response.Content.Headers.ContentDisposition!.ToString());
        var (data, manifest) = Split(await response.Content.ReadAsByteArrayAsync(), csv: true);

        Assert.StartsWith("\uFEFF" + string.Join(',', AuditExportEndpoints.Columns) + "\r\n", data); // UTF-8 BOM first, for Excel
        using var reader = CsvReader.Create(new StringReader(data), CsvReaderOptions.Default with { HasHeader = false }, false);
        var rows = new List<string[]>();
        while (reader.Read()) rows.Add(Enumerable.Range(0, reader.FieldCount).Select(i => reader.GetString(i)).ToArray());
        Assert.Equal(AuditExportEndpoints.Columns, rows[0]);
        var body = rows.Skip(1).ToList();
        var expected = (await host.AuditEventsAsync())
            .Where(e => e.Action == AuditAction.DocumentDownloaded && e.Outcome == AuditOutcome.Allowed && e.DocumentId == scenario.SharedDocumentId).ToList();
        Assert.Equal(3, expected.Count);
        Assert.Equal(expected.Select(e => e.Id.ToString()), body.Select(r => r[0]));
        Assert.All(body, r => Assert.Equal(Scenario.SharedDocumentName, r[Array.IndexOf(AuditExportEndpoints.Columns, "TargetName")]));
        Assert.Equal(expected.Select(e => e.Hash), body.Select(r => r[^1]));

        Assert.Equal(3, manifest.GetProperty("rows").GetInt64());
        Assert.Equal(expected[0].Id, manifest.GetProperty("firstId").GetInt64());
        Assert.Equal(expected[^1].Id, manifest.GetProperty("lastId").GetInt64());
        Assert.Equal(expected[^1].Hash, manifest.GetProperty("lastHash").GetString());
        // The chain head at export time is the export's own record, which is in the log, and the chain verifies.
        var all = await host.AuditEventsAsync();
        var exported = all.Single(e => e.Id == manifest.GetProperty("exportEventId").GetInt64());
        Assert.Equal(AuditAction.AuditExported, exported.Action);
        Assert.Equal("Cora Compliance", exported.ActorDisplayName);
        Assert.Equal(exported.Hash, manifest.GetProperty("chainHeadHash").GetString());
        Assert.Null(AuditChain.FindFirstBroken(all));
    }

    [Fact]
    public async Task Csv_defuses_formulas_and_json_lines_keeps_exact_values_that_rehash()
    {
        var compliance = await SignedInAsync("compliance");
        var csv = Encoding.UTF8.GetString(await compliance.GetByteArrayAsync("/audit/export.csv?action=DocumentUploaded"));
        Assert.Contains("'=HYPERLINK", csv);
        Assert.Contains("'-2+3", csv);
        Assert.DoesNotContain(",=HYPERLINK", csv);
        Assert.DoesNotContain("\"=HYPERLINK", csv);

        var (data, manifest) = Split(await compliance.GetByteArrayAsync("/audit/export.jsonl"), csv: false);
        var lines = data.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(lines.Length, manifest.GetProperty("rows").GetInt64());
        var events = lines.Select(l => JsonSerializer.Deserialize<AuditEvent>(l, new JsonSerializerOptions { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } })!).ToList();
        Assert.Contains(events, e => e.TargetName == "=HYPERLINK(\"http://evil\",\"x\")" && e.Reason == "-2+3");
        // An auditor can recompute every hash and every link from the JSON Lines file alone.
        Assert.All(events, e => Assert.Equal(e.Hash, AuditChain.ComputeHash(e)));
        Assert.Null(AuditChain.FindFirstBroken(events));
    }

    [Theory]
    [InlineData("staff")]
    [InlineData("admin")]
    public async Task Only_compliance_officers_may_export(string who)
    {
        var client = await SignedInAsync(who);
        var before = (await host.AuditEventsAsync()).Where(e => e.Action == AuditAction.AuditExported).Select(e => e.Id).ToHashSet();

        var response = await client.GetAsync("/audit/export.csv");

        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("PreviousHash", await response.Content.ReadAsStringAsync());
        // The attempt itself is on the record, as a refusal (separation of duties: compliance sees who tried).
        var attempt = Assert.Single(await host.AuditEventsAsync(), e => e.Action == AuditAction.AuditExported && !before.Contains(e.Id));
        Assert.Equal((AuditOutcome.Denied, who == "admin" ? "Ada Admin" : "Sam Staff", "Not a compliance officer"),
            (attempt.Outcome, attempt.ActorDisplayName, attempt.Reason));
    }

    [Fact]
    public async Task A_filter_that_does_not_parse_is_refused_with_the_reason()
    {
        var compliance = await SignedInAsync("compliance");
        var response = await compliance.GetAsync("/audit/export.csv?user=not-a-guid&action=Teleported");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadAsStringAsync();
        Assert.Contains("'not-a-guid' is not a valid user", problem);
        Assert.Contains("'Teleported' is not an audit action", problem);
    }
}
