using System.Globalization;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Portal.App.Audit;
using Portal.App.Auth;
using Portal.App.Folders;
using Portal.Data;
using Portal.Data.Audit;
using Portal.Data.Documents;
using Portal.Data.Permissions;

namespace Portal.App.Documents;

/// <summary>"Uploads": what one uploaded file may be.</summary>
public sealed class UploadOptions
{
    public const string Section = "Uploads";
    /// <summary>Largest file accepted, in bytes (default 2 GiB).</summary>
    public long MaxFileBytes { get; set; } = 2L * 1024 * 1024 * 1024;
}

/// <summary>A file the upload endpoint stored: a new document (version 1), or the next version of the live document of that name.</summary>
public sealed record UploadedDocument(Guid Id, string Name, long Size, string ContentType, int Version);

/// <summary>
/// POST /folders/{id}/documents: multipart files streamed straight to storage (never through the Blazor circuit,
/// never buffered whole), hashed on the way, renamed into place only when complete. Needs the Upload right and
/// the antiforgery token; each stored file is an audit event. A file named like a live document in the folder becomes
/// that document's next version (<see cref="DocumentOperations.FileUploadAsync"/>).
/// </summary>
public static class UploadEndpoints
{
    public static IEndpointRouteBuilder MapUploadEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/folders/{folderId:guid}/documents", UploadAsync).RequireAuthorization().DisableAntiforgery();
        return app;
    }

    private static async Task<IResult> UploadAsync(
        Guid folderId, HttpContext http, IAntiforgery antiforgery, DocumentStorage storage,
        DocumentOperations documents, IDbContextFactory<PortalDbContext> contexts, AuditLog audit, IOptions<UploadOptions> options,
        ILogger<UploadOptions> log)
    {
        var ct = http.RequestAborted;
        var caller = Caller.Of(http);
        var actor = caller.Actor;
        if (actor is null) return Results.Unauthorized();
        // Validated here rather than by form binding, because the body is streamed, not bound.
        if (!await antiforgery.IsRequestValidAsync(http))
            return Results.Problem("The request did not carry a valid antiforgery token. Reload the page and try again.", statusCode: StatusCodes.Status400BadRequest);

        // The rights here and the folder's path by names (for the audit record) from one read of the path; a deleted
        // folder takes nothing, but its path still names where the refused upload was meant to go.
        var rights = Rights.None;
        string? namesPath = null;
        await using (var db = await contexts.CreateDbContextAsync(ct))
            if (await db.Folders.Where(f => f.Id == folderId).Select(f => new { f.Path, f.IsDeleted }).SingleOrDefaultAsync(ct) is { } folder)
            {
                var access = await PermissionService.PathAccessAsync(db, actor, folder.Path, ct);
                (rights, namesPath) = (folder.IsDeleted ? Rights.None : access.Rights, access.NamesPath);
            }
        if (!rights.HasFlag(Rights.Upload))
        {
            var denied = AuditEventFactory.For(http, AuditAction.DocumentUploaded, AuditOutcome.Denied, "No Upload right on the folder");
            (denied.FolderId, denied.TargetPath) = (folderId, namesPath);
            await audit.AppendAsync(denied, ct);
            return Results.Problem("You may not upload to this folder.", statusCode: StatusCodes.Status403Forbidden);
        }

        if (!MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var mediaType) || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value is not { Length: > 0 and <= 200 } boundary)
            return Results.Problem("Send the files as multipart/form-data.", statusCode: StatusCodes.Status415UnsupportedMediaType);

        // Our own per-file limit applies (below); Kestrel's 30 MB default for the whole request would cut large files.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = null;

        var maxBytes = options.Value.MaxFileBytes;
        var reader = new MultipartReader(boundary, http.Request.Body);
        var stored = new List<UploadedDocument>();
        while (await reader.ReadNextSectionAsync(ct) is { } section)
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || !disposition.IsFileDisposition()) continue;
            var name = (disposition.FileNameStar.HasValue ? disposition.FileNameStar.Value : HeaderUtilities.RemoveQuotes(disposition.FileName).Value) ?? "";
            if (DocumentNames.Problem(name) is { } problem)
                return Results.Problem($"{problem} Nothing after \"{Shown(stored.LastOrDefault()?.Name)}\" was stored.", statusCode: StatusCodes.Status400BadRequest);

            StoredContent content;
            try
            {
                content = await storage.PutAsync(new LimitedStream(section.Body, maxBytes), ct);
            }
            catch (FileTooLargeException)
            {
                return Results.Problem($"\"{name}\" is larger than the limit of {FormatBytes(maxBytes)}. Files before it were stored; it and the rest were not.",
                    statusCode: StatusCodes.Status413PayloadTooLarge);
            }
            catch (IOException e) when (DocumentStorage.IsOutOfSpace(e))
            {
                log.LogError("No space left in storage for an upload to {FolderId}", folderId);
                return Results.Problem($"The server has no space left to store \"{name}\". Nothing of it was kept; files before it were stored. Tell your administrator.",
                    statusCode: StatusCodes.Status507InsufficientStorage);
            }

            var (filed, refused) = await documents.FileUploadAsync(caller, folderId, namesPath, name, content, rights.HasFlag(Rights.Browse), ct);
            if (refused is not null) return refused.ToHttp();
            stored.Add(filed!);
        }
        return stored.Count == 0
            ? Results.Problem("The request held no file.", statusCode: StatusCodes.Status400BadRequest)
            : Results.Ok(stored);
    }

    private static string Shown(string? name) => name ?? "the start";

    internal static string FormatBytes(long bytes) =>
        bytes >= 1024L * 1024 * 1024 ? $"{bytes / (1024.0 * 1024 * 1024):0.##} GiB"
        : bytes >= 1024 * 1024 ? $"{bytes / (1024.0 * 1024):0.#} MiB"
        : bytes.ToString(CultureInfo.InvariantCulture) + " bytes";
}

/// <summary>What a document's name may be: kept as given (any Unicode) but never control characters.</summary>
public static class DocumentNames
{
    public const int MaxLength = 255;

    /// <summary>Why <paramref name="name"/> is refused, in words for the person uploading, or null when it is fine.</summary>
    public static string? Problem(string name)
    {
        if (string.IsNullOrWhiteSpace(name)) return "A file has no name.";
        if (name.Length > MaxLength) return $"A file name is longer than {MaxLength} characters.";
        if (name.Any(char.IsControl)) return "A file name contains control characters (such as line breaks or NUL), which are not allowed.";
        if (name.Trim() is "." or "..") return "A file cannot be named \".\" or \"..\".";
        return null;
    }
}

/// <summary>The uploaded file went past the configured limit.</summary>
public sealed class FileTooLargeException() : IOException("The file is larger than the upload limit.");

/// <summary>Reads through to the inner stream and throws once more than the limit has been read.</summary>
internal sealed class LimitedStream(Stream inner, long limit) : Stream
{
    private long _read;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        var n = await inner.ReadAsync(buffer, ct);
        _read += n;
        if (_read > limit) throw new FileTooLargeException();
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _read; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
