using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using CsvHelper;
using Microsoft.AspNetCore.WebUtilities;
using Portal.Data.Audit;

namespace Portal.App.Audit;

/// <summary>
/// `Portal.App verify-export &lt;file&gt;`: what an auditor runs on an export handed to them, on any machine, without the
/// portal's database or settings. It checks that the manifest is there (the export was not interrupted), that the
/// SHA-256 of every byte before it matches (nothing cut or edited), that the rows and ids are the manifest's, that the
/// rows are in chain order and each one that follows its predecessor in the chain links to it, that an export of a
/// time range (or the whole log) has no event missing, and, in JSON Lines, that every row rehashes to its Hash (no
/// field changed). Exit 0 when it holds, 2 naming what does not, 1 when the file cannot be read.
/// </summary>
public static class ExportVerification
{
    public const string Command = "verify-export";
    public const int ProgressEvery = 100_000;

    public sealed record Result(bool Holds, IReadOnlyList<string> Problems, string Summary)
    {
        public string Describe() => Holds ? Summary : $"The export does NOT hold:\n- {string.Join("\n- ", Problems)}";
    }

    /// <summary>The manifest as the export writes it (see <see cref="AuditExportEndpoints"/>).</summary>
    internal sealed record Manifest(string? Format, long Rows, long? FirstId, long? LastId, string? LastHash, long? ChainHeadId,
        string? ChainHeadHash, string? Sha256, string? Filter, string? ExportedAt, string? ExportedBy, long? ExportEventId,
        string? KeyId = null, string? Signature = null);

    internal sealed record ManifestLine(Manifest? Manifest);

    /// <summary>The manifest's names are camelCase.</summary>
    internal static readonly JsonSerializerOptions ManifestJson = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// What the portal signs in a manifest (with the audit head key, ECDSA P-256): every field but the signature, as a
    /// JSON array in a fixed order. A forger who trims the rows and recomputes the manifest cannot sign it.
    /// </summary>
    internal static byte[] Canonical(Manifest m) => JsonSerializer.SerializeToUtf8Bytes(new object?[]
    {
        "portal-audit-export", 1, m.Format, m.Rows, m.FirstId, m.LastId, m.LastHash, m.ChainHeadId, m.ChainHeadHash, m.Sha256,
        m.Filter, m.ExportedAt, m.ExportedBy, m.ExportEventId, m.KeyId,
    });

    /// <summary>Rows carry the event's own property names, so matching them exactly (not ignoring case) is enough, and faster.</summary>
    private static readonly JsonSerializerOptions RowJson = new() { Converters = { new JsonStringEnumConverter() } };

    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken ct = default)
    {
        var at = Array.IndexOf(args, Command);
        var keyAt = Array.IndexOf(args, "--key");
        var path = at >= 0 && at + 1 < args.Length && args[at + 1] != "--key" ? args[at + 1] : null;
        if (path is null || keyAt < 0 || keyAt + 1 >= args.Length)
        {
            await output.WriteLineAsync("Usage: Portal.App verify-export <audit-export .zip, .csv or .jsonl> --key <audit-signing-key.pub.pem>");
            await output.WriteLineAsync("The public key is the portal's audit signing key (Audit:VerifyKeyPath); without it the manifest's signature cannot be checked.");
            return 1;
        }
        AuditHeadSigner key;
        try { key = AuditHeadSigner.FromPemFile(args[keyAt + 1]); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or CryptographicException)
        {
            await output.WriteLineAsync($"Cannot read the public key {args[keyAt + 1]}: {e.Message}");
            return 1;
        }
        if (!File.Exists(path))
        {
            await output.WriteLineAsync($"No such file: {path}");
            return 1;
        }
        await using var file = File.OpenRead(path);
        // Progress on stderr (about once a second), the result on stdout: a 10-million-row file takes a minute or two.
        Action<long> progress = rows => Console.Error.WriteLine($"{rows:N0} rows checked…");
        var result = path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase)
            ? await CheckZipAsync(file, ct, progress, key: key)
            : await CheckAsync(file, ct, progress, key: key);
        await output.WriteLineAsync(result.Describe());
        return result.Holds ? 0 : 2;
    }

    /// <summary>Checks an export (a seekable stream: the manifest is its last line) as a stream, in flat memory.</summary>
    /// <param name="progress">Told the rows checked so far, every <paramref name="progressEvery"/> rows.</param>
    /// <param name="key">The portal's public audit key: the manifest's signature is checked with it (null: not checked, and said so).</param>
    public static async Task<Result> CheckAsync(Stream export, CancellationToken ct = default, Action<long>? progress = null,
        int progressEvery = ProgressEvery, AuditHeadSigner? key = null)
    {
        var (dataLength, manifestText) = await LastLineAsync(export, ct);
        var csv = manifestText.StartsWith(AuditExportEndpoints.ManifestPrefix, StringComparison.Ordinal);
        Manifest? manifest = null;
        try
        {
            manifest = JsonSerializer.Deserialize<ManifestLine>(csv ? manifestText[AuditExportEndpoints.ManifestPrefix.Length..] : manifestText, ManifestJson)?.Manifest;
        }
        catch (JsonException) { }
        if (manifest is null)
            return new Result(false, ["Its last line is not a manifest: the export was interrupted or cut, or this is not a Portal audit export."], "");

        export.Position = 0;
        return await CheckDataAsync(export, dataLength, manifest, csv, ct, progress, progressEvery, key);
    }

    /// <summary>The manifest's own file in a ZIP export (issue #21).</summary>
    public const string ManifestFileName = "manifest.json";

    /// <summary>
    /// Checks a ZIP export: the CSV or JSON Lines file (no manifest line in it) and <see cref="ManifestFileName"/> beside
    /// it, as a stream (the data entry is read once, in flat memory).
    /// </summary>
    public static async Task<Result> CheckZipAsync(Stream zip, CancellationToken ct = default, Action<long>? progress = null,
        int progressEvery = ProgressEvery, AuditHeadSigner? key = null)
    {
        System.IO.Compression.ZipArchive archive;
        try { archive = new System.IO.Compression.ZipArchive(zip, System.IO.Compression.ZipArchiveMode.Read, leaveOpen: true); }
        catch (InvalidDataException) { return new Result(false, ["This is not a ZIP file."], ""); }
        using (archive)
        {
            var manifestEntry = archive.GetEntry(ManifestFileName);
            var dataEntries = archive.Entries.Where(e => e.FullName != ManifestFileName).ToList();
            if (manifestEntry is null || dataEntries.Count != 1)
                return new Result(false, [$"The ZIP does not hold exactly one export file and its {ManifestFileName}: it is not a Portal audit export, or files were added or removed."], "");
            Manifest? manifest = null;
            try
            {
                await using var text = manifestEntry.Open();
                manifest = (await JsonSerializer.DeserializeAsync<ManifestLine>(text, ManifestJson, ct))?.Manifest;
            }
            catch (JsonException) { }
            if (manifest is null) return new Result(false, [$"{ManifestFileName} is not a manifest."], "");
            await using var data = dataEntries[0].Open();
            return await CheckDataAsync(data, dataEntries[0].Length, manifest, manifest.Format == "csv", ct, progress, progressEvery, key);
        }
    }

    private static async Task<Result> CheckDataAsync(Stream export, long dataLength, Manifest manifest, bool csv, CancellationToken ct,
        Action<long>? progress, int progressEvery, AuditHeadSigner? key)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var data = new HashingReadStream(export, dataLength, hash);
        var rows = new RowChecks(ContiguousFilter(manifest.Filter), progress, progressEvery);
        if (csv) await ReadCsvAsync(data, rows, ct);
        else await ReadJsonLinesAsync(data, rows, ct);
        await data.CopyToAsync(Stream.Null, ct); // the rest after a bad row, so that the SHA-256 covers every byte

        var problems = new List<string>();
        if (key is not null)
        {
            if (string.IsNullOrEmpty(manifest.Signature))
                problems.Add("The manifest is not signed: it was not written by the portal (or its signature was removed).");
            else if (manifest.KeyId != key.KeyId || !key.VerifyBytes(Canonical(manifest), manifest.Signature))
                problems.Add($"The manifest's signature does not hold for the portal's key {key.KeyId}: the manifest was edited or recomputed after the export.");
        }
        if (manifest.ExportEventId is { } own && (manifest.ChainHeadId is not { } headId || own > headId))
            problems.Add($"The export's own event #{own} is newer than the chain head in the manifest (#{manifest.ChainHeadId}): the manifest was not written at the export.");
        var sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (!string.Equals(sha256, manifest.Sha256, StringComparison.OrdinalIgnoreCase))
            problems.Add($"The bytes before the manifest were changed: their SHA-256 is {sha256}, the manifest says {manifest.Sha256}.");
        var endsAtHead = rows.Count > 0 && rows.LastId == manifest.ChainHeadId;
        if (rows.FirstProblem is { } first) problems.Insert(0, first); // the rows after it were not read: nothing to compare
        else
        {
            if (rows.Count != manifest.Rows) problems.Add($"It holds {rows.Count} rows; the manifest says {manifest.Rows}.");
            if (rows.Count > 0 && (rows.FirstId != manifest.FirstId || rows.LastId != manifest.LastId))
                problems.Add($"Its rows run from #{rows.FirstId} to #{rows.LastId}; the manifest says #{manifest.FirstId} to #{manifest.LastId}.");
            if (rows.Count > 0 && rows.LastHash != manifest.LastHash)
                problems.Add("The last row's hash is not the manifest's lastHash.");
            if (endsAtHead && rows.LastHash != manifest.ChainHeadHash)
                problems.Add($"The last row is event #{rows.LastId}, the chain head the manifest names, but its hash is not chainHeadHash.");
        }

        var format = csv ? "CSV" : "JSON Lines";
        var filter = string.IsNullOrEmpty(manifest.Filter) ? "none (the whole log)" : manifest.Filter;
        var summary = new StringBuilder()
            .Append($"The export holds: {manifest.Rows:N0} events")
            .Append(rows.Count > 0 ? $", #{manifest.FirstId} to #{manifest.LastId}" : "")
            .Append($", {format}, exported {manifest.ExportedAt} by {manifest.ExportedBy} (audit event #{manifest.ExportEventId}); filter: {filter}.\n")
            .Append("Nothing before the manifest was changed; the rows are in chain order and each links to the one before it in the chain")
            .Append(rows.Contiguous ? ", with none missing" : "")
            .Append(csv ? ". (CSV cannot be rehashed exactly: use the JSON Lines export for that.)\n" : "; every row rehashes to its hash.\n")
            .Append(endsAtHead && rows.Contiguous
                ? $"Its last row is the chain head at export, whose hash commits to every row before it: if event #{manifest.ChainHeadId} in the live log still has hash {manifest.ChainHeadHash} (and verify-audit passes there), every row of this file is the portal's own."
                : $"To tie it to the live log: its event #{manifest.ChainHeadId} must still have hash {manifest.ChainHeadHash}, and verify-audit must pass there.")
            .Append(key is null
                ? "\nThe manifest's signature was NOT checked: give the portal's public key (--key)."
                : $"\nThe manifest is signed by the portal's key {key.KeyId}.")
            .ToString();
        return new Result(problems.Count == 0, problems, summary);
    }

    /// <summary>An export of a time range (or everything) holds every event between its first and last: time order is id order.</summary>
    private static bool ContiguousFilter(string? filter) =>
        QueryHelpers.ParseQuery(filter).Keys.All(k => k is "from" or "to");

    private static async Task ReadJsonLinesAsync(Stream data, RowChecks rows, CancellationToken ct)
    {
        using var reader = new StreamReader(data, Encoding.UTF8, leaveOpen: true);
        while (await reader.ReadLineAsync(ct) is { } line && rows.FirstProblem is null)
        {
            AuditEvent? e = null;
            try { e = JsonSerializer.Deserialize<AuditEvent>(line, RowJson); }
            catch (JsonException) { }
            if (e is null) { rows.Fail($"Row {rows.Count + 1} is not an audit event."); return; }
            if (AuditChain.ComputeHash(e) != e.Hash)
            {
                rows.Fail($"Row {rows.Count + 1} (event #{e.Id}) does not rehash to its hash: one of its fields was changed.");
                return;
            }
            rows.Accept(e.Id, e.PreviousHash, e.Hash);
        }
    }

    private static async Task ReadCsvAsync(Stream data, RowChecks rows, CancellationToken ct)
    {
        using var text = new StreamReader(data, Encoding.UTF8, leaveOpen: true);
        using var reader = CsvReader.Create(text, CsvReaderOptions.Default with { HasHeader = false }, false);
        // Today's columns, or those of an export made before FetchSite was added (it verifies as it did then).
        var header = await reader.ReadAsync(ct) ? Enumerable.Range(0, reader.FieldCount).Select(reader.GetString).ToArray() : [];
        var columns = new[] { AuditExportEndpoints.Columns, AuditExportEndpoints.ColumnsBeforeFetchSite }.FirstOrDefault(c => c.SequenceEqual(header));
        if (columns is null)
        {
            rows.Fail("The first line is not the export's header.");
            return;
        }
        int id = Column("Id"), previous = Column("PreviousHash"), own = Column("Hash");
        while (rows.FirstProblem is null && await reader.ReadAsync(ct))
        {
            if (reader.FieldCount != columns.Length || !long.TryParse(reader.GetString(id), CultureInfo.InvariantCulture, out var eventId))
            {
                rows.Fail($"Row {rows.Count + 1} is not an audit event.");
                return;
            }
            rows.Accept(eventId, reader.GetString(previous), reader.GetString(own));
        }

        int Column(string name) => Array.IndexOf(columns, name);
    }

    /// <summary>Order, links and (for a contiguous export) gaps, row by row; stops at the first problem.</summary>
    private sealed class RowChecks(bool contiguous, Action<long>? progress, int progressEvery)
    {
        public bool Contiguous => contiguous;
        public long Count { get; private set; }
        public long? FirstId { get; private set; }
        public long? LastId { get; private set; }
        public string? LastHash { get; private set; }
        public string? FirstProblem { get; private set; }

        public void Fail(string problem) => FirstProblem ??= problem;

        public void Accept(long id, string? previousHash, string? hash)
        {
            var row = Count + 1;
            if (LastId is { } last)
            {
                if (id <= last) Fail($"Row {row} (event #{id}) comes after event #{last}: rows were moved.");
                else if (id == last + 1 && previousHash != LastHash)
                    Fail($"Row {row} (event #{id}) does not link to event #{last} before it: one of the two was changed or replaced.");
                else if (id > last + 1 && contiguous)
                    Fail($"Events #{last + 1} to #{id - 1} are missing before row {row}: this export of a time range should hold every event in it.");
            }
            else if (id == 1 && previousHash != AuditChain.GenesisHash)
                Fail($"Row {row} (event #1) does not start the chain.");
            if (FirstProblem is not null) return;
            Count = row;
            if (row % progressEvery == 0) progress?.Invoke(row);
            FirstId ??= id;
            LastId = id;
            LastHash = hash;
        }
    }

    /// <summary>Where the manifest (the last line) starts, and its text, read from the end of the file.</summary>
    private static async Task<(long DataLength, string Manifest)> LastLineAsync(Stream export, CancellationToken ct)
    {
        var length = export.Length;
        var tail = (int)Math.Min(length, 1 << 20); // a manifest is a few hundred bytes (its filter included)
        var buffer = new byte[tail];
        export.Position = length - tail;
        await export.ReadExactlyAsync(buffer, ct);
        var end = tail > 0 && buffer[^1] == (byte)'\n' ? tail - 1 : tail;
        var start = Array.LastIndexOf(buffer, (byte)'\n', Math.Max(end - 1, 0)) + 1;
        if (end == 0) start = 0;
        return (length - tail + start, Encoding.UTF8.GetString(buffer, start, end - start));
    }

    /// <summary>Reads the first <paramref name="length"/> bytes of a stream and hashes exactly what was read.</summary>
    private sealed class HashingReadStream(Stream inner, long length, IncrementalHash hash) : Stream
    {
        private readonly long _length = length;
        private long _left = length;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override int Read(Span<byte> buffer)
        {
            var n = inner.Read(buffer[..(int)Math.Min(buffer.Length, _left)]);
            return Took(buffer[..n]);
        }
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            var n = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _left)], ct);
            return Took(buffer.Span[..n]);
        }
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

        private int Took(ReadOnlySpan<byte> read)
        {
            hash.AppendData(read);
            _left -= read.Length;
            return read.Length;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => _length;
        public override long Position { get => _length - _left; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
