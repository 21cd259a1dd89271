using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CsvHelper;
using Portal.App.Auth;
using Portal.Data.Audit;

namespace Portal.App.Audit;

/// <summary>
/// GET /audit/export.csv and /audit/export.jsonl with the filter in the query string (the same one as the grid):
/// the matching events in chain order, streamed (flat memory at any size), then a manifest line an auditor can
/// check: row count, first and last id, the last exported event's hash, the chain head at the time of the export,
/// and the SHA-256 of every byte before the manifest. Only compliance officers may export; the export is itself
/// audited (committed before the first byte, so an unrecorded export cannot happen).
/// </summary>
public static class AuditExportEndpoints
{
    public const string ManifestPrefix = "# manifest ";

    public static IEndpointRouteBuilder MapAuditExportEndpoints(this IEndpointRouteBuilder app)
    {
        var export = app.MapGroup("/audit").RequireAuthorization(p => p.RequireRole(PortalRoles.ComplianceOfficer));
        export.MapGet("/export.csv", (HttpContext http, AuditQueries queries, AuditLog audit, TimeProvider clock, AuditSigningKeys keys) => ExportAsync(http, queries, audit, clock, keys, csv: true));
        export.MapGet("/export.jsonl", (HttpContext http, AuditQueries queries, AuditLog audit, TimeProvider clock, AuditSigningKeys keys) => ExportAsync(http, queries, audit, clock, keys, csv: false));
        // Issue #21: a ZIP holding the export file (no manifest line in it: it opens as is) and a signed manifest.json.
        export.MapGet("/export.csv.zip", (HttpContext http, AuditQueries queries, AuditLog audit, TimeProvider clock, AuditSigningKeys keys) => ExportAsync(http, queries, audit, clock, keys, csv: true, zip: true));
        export.MapGet("/export.jsonl.zip", (HttpContext http, AuditQueries queries, AuditLog audit, TimeProvider clock, AuditSigningKeys keys) => ExportAsync(http, queries, audit, clock, keys, csv: false, zip: true));
        return app;
    }

    private static async Task<IResult> ExportAsync(HttpContext http, AuditQueries queries, AuditLog audit, TimeProvider clock, AuditSigningKeys keys, bool csv, bool zip = false)
    {
        var ct = http.RequestAborted;
        var filter = AuditFilter.Parse(http.Request.Query, out var errors);
        if (errors.Count > 0) return Results.Problem(string.Join(" ", errors), statusCode: StatusCodes.Status400BadRequest, title: "The filter is not valid");

        var format = csv ? "CSV" : "JSON Lines";
        var query = filter.ToQueryString();
        var record = AuditEventFactory.For(http, AuditAction.AuditExported, AuditOutcome.Allowed, $"{format} export; filter: {(query.Length == 0 ? "none" : query)}");
        var exportEventId = await audit.AppendAsync(record, ct); // fails closed (503) if it cannot be recorded
        var exportedAt = clock.GetUtcNow();

        var response = http.Response;
        response.ContentType = zip ? "application/zip" : csv ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8";
        var name = $"audit-{exportedAt:yyyyMMdd-HHmmss}.{(csv ? "csv" : "jsonl")}";
        response.Headers.ContentDisposition = $"attachment; filename=\"{name}{(zip ? ".zip" : "")}\"";
        response.Headers.CacheControl = "no-store";
        response.Headers["X-Accel-Buffering"] = "no"; // stream through nginx, do not spool to disk
        response.Headers["X-Content-Type-Options"] = "nosniff";

        // ZIP: the rows go through the hash into the archive's entry; the archive writes into a buffer drained to the
        // response as the rows come (a ZIP on a stream that cannot seek: sizes follow each entry). Memory stays flat.
        using var zipOut = zip ? new DrainBuffer() : null;
        using var archive = zipOut is null ? null : new System.IO.Compression.ZipArchive(zipOut, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true);
        var entry = archive?.CreateEntry(name, System.IO.Compression.CompressionLevel.Fastest).Open();
        await using var body = new HashingBuffer(entry ?? response.Body);
        long rows = 0, firstId = 0, lastId = 0;
        string? lastHash = null;
        if (csv)
        {
            // CsvHelper's own CSV injection guard: a text cell starting with = + - @, tab or CR gets a leading
            // apostrophe so a spreadsheet shows it as text. The JSON Lines export keeps every value exactly.
            // A byte-order mark first: Excel then reads the file as UTF-8 and accents stay intact (it is hashed like the rest).
            body.Write(Encoding.UTF8.Preamble);
            await using var writer = CsvWriter.Create(body, CsvWriterOptions.Default with { Injection = CsvInjection.Escape }, leaveOpen: true);
            writer.WriteHeader(Columns);
            await foreach (var e in queries.StreamAsync(filter, ct))
            {
                WriteCsv(writer, e);
                writer.EndRecord();
                Track(e);
                if (rows % 1000 == 0) { await writer.FlushAsync(ct); await DrainAsync(); }
            }
            await writer.FlushAsync(ct);
        }
        else
        {
            await foreach (var e in queries.StreamAsync(filter, ct))
            {
                JsonSerializer.Serialize(body, ToJson(e), JsonLine);
                body.WriteByte((byte)'\n');
                Track(e);
                if (rows % 1000 == 0) await DrainAsync();
            }
        }
        var head = await queries.HeadAsync(ct);
        var signer = keys.Signer;
        var manifest = new ExportVerification.Manifest(csv ? "csv" : "jsonl", rows, rows > 0 ? firstId : null, rows > 0 ? lastId : null, lastHash,
            head?.Id, head?.Hash, body.HashSoFar(), // over every byte before this line
            query, exportedAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture), record.ActorDisplayName, exportEventId, signer?.KeyId);
        // Signed with the audit head key (outside the database): a trimmed export with a recomputed manifest fails verify-export.
        if (signer is not null) manifest = manifest with { Signature = signer.SignBytes(ExportVerification.Canonical(manifest)) };
        if (archive is not null)
        {
            await body.DrainAsync(ct);
            await entry!.DisposeAsync();
            await using (var manifestFile = archive.CreateEntry(ExportVerification.ManifestFileName).Open())
                await JsonSerializer.SerializeAsync(manifestFile, new ExportVerification.ManifestLine(manifest), ManifestFileJson, ct);
            archive.Dispose(); // the central directory, into the buffer
            await zipOut!.DrainAsync(response.Body, ct);
            return Results.Empty;
        }
        var line = (csv ? ManifestPrefix : "") + JsonSerializer.Serialize(new ExportVerification.ManifestLine(manifest), ExportVerification.ManifestJson) + "\n";
        body.Write(Encoding.UTF8.GetBytes(line));
        await body.DrainAsync(ct);
        return Results.Empty;

        async Task DrainAsync()
        {
            await body.DrainAsync(ct);
            if (zipOut is not null) await zipOut.DrainAsync(response.Body, ct);
        }

        void Track(AuditEvent e)
        {
            if (rows++ == 0) firstId = e.Id;
            lastId = e.Id;
            lastHash = e.Hash;
        }
    }

    private static readonly JsonSerializerOptions ManifestFileJson = new(ExportVerification.ManifestJson) { WriteIndented = true };

    /// <summary>What the ZIP writer writes (synchronously), kept until drained to the response asynchronously.</summary>
    private sealed class DrainBuffer : Stream
    {
        private readonly MemoryStream _buffer = new();
        public override void Write(byte[] buffer, int offset, int count) => _buffer.Write(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => _buffer.Write(buffer);
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) { Write(buffer, offset, count); return Task.CompletedTask; }
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default) { Write(buffer.Span); return ValueTask.CompletedTask; }

        public async Task DrainAsync(Stream destination, CancellationToken ct)
        {
            if (_buffer.Length == 0) return;
            await destination.WriteAsync(_buffer.GetBuffer().AsMemory(0, (int)_buffer.Length), ct);
            await destination.FlushAsync(ct);
            _buffer.SetLength(0);
        }

        public override void Flush() { }
        public override Task FlushAsync(CancellationToken ct) => Task.CompletedTask;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        protected override void Dispose(bool disposing) { if (disposing) _buffer.Dispose(); base.Dispose(disposing); }
    }

    private static readonly JsonSerializerOptions JsonLine = new() { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    internal static readonly string[] Columns =
    [
        "Id", "OccurredAt", "Action", "Outcome", "Reason", "ActorUserId", "ActorSubject", "ActorDisplayName", "ActorGroups",
        "SessionId", "CorrelationId", "ClientIp", "UserAgent", "FetchSite", "DocumentId", "FolderId", "TargetPath", "TargetName",
        "ContentHash", "Size", "Range", "Changes", "PreviousHash", "Hash",
    ];

    /// <summary>The columns of an export written before FetchSite existed: verify-export still checks those files.</summary>
    internal static readonly string[] ColumnsBeforeFetchSite = Columns.Where(c => c != "FetchSite").ToArray();

    private static readonly Dictionary<AuditAction, string> ActionNames = Enum.GetValues<AuditAction>().ToDictionary(a => a, a => a.ToString());

    // Numbers, ids and times are written without allocating (span formatting); text goes through the injection guard.
    private static void WriteCsv(CsvWriter w, AuditEvent e)
    {
        w.WriteField(e.Id, default);
        w.WriteField(e.OccurredAt.UtcDateTime, "O");
        w.WriteField(ActionNames[e.Action]);
        w.WriteField(e.Outcome == AuditOutcome.Allowed ? "Allowed" : "Denied");
        w.WriteField(e.Reason);
        w.WriteField(e.ActorUserId, default);
        w.WriteField(e.ActorSubject);
        w.WriteField(e.ActorDisplayName);
        w.WriteField(e.ActorGroups);
        w.WriteField(e.SessionId);
        w.WriteField(e.CorrelationId);
        w.WriteField(e.ClientIp);
        w.WriteField(e.UserAgent);
        w.WriteField(e.FetchSite);
        w.WriteField(e.DocumentId, default);
        w.WriteField(e.FolderId, default);
        w.WriteField(e.TargetPath);
        w.WriteField(e.TargetName);
        w.WriteField(e.ContentHash);
        w.WriteField(e.Size, default);
        w.WriteField(e.Range);
        w.WriteField(e.Changes);
        w.WriteField(e.PreviousHash);
        w.WriteField(e.Hash);
    }

    private static object ToJson(AuditEvent e) => new
    {
        e.Id, OccurredAt = e.OccurredAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture), e.Action, e.Outcome, e.Reason,
        e.ActorUserId, e.ActorSubject, e.ActorDisplayName, e.ActorGroups, e.SessionId, e.CorrelationId, e.ClientIp, e.UserAgent,
        e.FetchSite, e.DocumentId, e.FolderId, e.TargetPath, e.TargetName, e.ContentHash, e.Size, e.Range, e.Changes, e.PreviousHash, e.Hash,
    };

    /// <summary>
    /// Collects synchronous writes (CsvHelper and System.Text.Json write synchronously) in a small buffer, hashes
    /// them, and sends the buffer to the response asynchronously when drained: no synchronous IO, flat memory.
    /// </summary>
    private sealed class HashingBuffer(Stream destination) : Stream
    {
        private readonly MemoryStream _buffer = new();
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private string? _final;

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_final is null) _hash.AppendData(buffer);
            _buffer.Write(buffer);
        }
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) { Write(buffer, offset, count); return Task.CompletedTask; }
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default) { Write(buffer.Span); return ValueTask.CompletedTask; }

        /// <summary>The SHA-256 of everything written so far; later writes (the manifest) are not hashed.</summary>
        public string HashSoFar() => _final ??= Convert.ToHexStringLower(_hash.GetHashAndReset());

        public async Task DrainAsync(CancellationToken ct)
        {
            if (_buffer.Length == 0) return;
            await destination.WriteAsync(_buffer.GetBuffer().AsMemory(0, (int)_buffer.Length), ct);
            await destination.FlushAsync(ct);
            _buffer.SetLength(0);
        }

        public override void Flush() { }
        public override Task FlushAsync(CancellationToken ct) => Task.CompletedTask;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) { _hash.Dispose(); _buffer.Dispose(); }
            base.Dispose(disposing);
        }
    }
}
