using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Portal.App.Audit;
using Portal.App.Auth;
using Portal.App.Documents;
using Portal.App.Hosting;
using Portal.Data;
using Portal.Data.Audit;
using Portal.Data.Folders;
using Portal.Data.Permissions;

namespace Portal.App.Downloads;

/// <summary>
/// GET /d/{id}: who is it, may they, record it (committed), then deliver: the app streams the file (Direct)
/// or hands the transfer to nginx with X-Accel-Redirect (XAccel). No byte leaves without an audit row.
/// </summary>
public static class DownloadEndpoints
{
    public static IEndpointRouteBuilder MapDownloadEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/d/{id:guid}", DownloadAsync).RequireAuthorization().WithName("Download");
        return app;
    }

    private static async Task<IResult> DownloadAsync(
        Guid id, HttpContext http, PortalDbContext db, PermissionService permissions, AuditLog audit,
        DocumentStorage storage, IOptions<DeliveryOptions> deliveryOptions, PortalSettings settings, ILoggerFactory logs)
    {
        var log = logs.CreateLogger("Portal.Downloads");
        var ct = http.RequestAborted;
        var actor = http.User.ToActor();
        if (actor is null) return Results.Unauthorized();

        var doc = await db.Documents.AsNoTracking()
            .Where(d => d.Id == id && !d.IsDeleted)
            .Select(d => new { d.Id, d.DisplayName, d.ContentHash, d.Size, d.ContentType, d.FolderId, FolderPath = d.Folder!.Path })
            .SingleOrDefaultAsync(ct);

        var requested = AuditEventFactory.For(http, AuditAction.DocumentDownloaded, AuditOutcome.Denied);
        requested.DocumentId = id;
        requested.Range = http.Request.Headers.Range.ToString() is { Length: > 0 } range ? range[..Math.Min(range.Length, 200)] : null;

        if (doc is null)
        {
            requested.Reason = "No such document";
            await audit.AppendAsync(requested, ct);
            return Results.Problem("No document has this id, or it was deleted.", statusCode: StatusCodes.Status404NotFound);
        }

        requested.FolderId = doc.FolderId;
        requested.TargetName = doc.DisplayName;
        requested.TargetPath = await FolderNamesPathAsync(db, doc.FolderPath, ct);
        requested.ContentHash = doc.ContentHash;
        requested.Size = doc.Size;

        var rights = await permissions.GetRightsAsync(actor, doc.FolderId, ct);
        if (!rights.HasFlag(Rights.Download))
        {
            requested.Reason = "No Download right on the folder";
            await audit.AppendAsync(requested, ct);
            log.LogInformation("Download of {DocumentId} denied for {UserId}", id, actor.UserId);
            return Results.Problem("You do not have permission to download this document.", statusCode: StatusCodes.Status403Forbidden);
        }

        requested.Outcome = AuditOutcome.Allowed;
        long auditId;
        try
        {
            auditId = await audit.AppendAsync(requested, ct);
        }
        catch (Exception e) when (e is DbUpdateException or System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
            // Fail closed: without a committed audit row nothing is served.
            log.LogError(e, "Audit write failed; download of {DocumentId} refused", id);
            return Results.Problem("The download cannot be recorded right now, so it is not served. Try again shortly.",
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        var options = deliveryOptions.Value;
        var headers = http.Response.Headers;
        headers.ContentDisposition = ContentDisposition.Attachment(doc.DisplayName);
        headers.CacheControl = options.CacheControl;
        headers.XContentTypeOptions = "nosniff";
        log.LogInformation("Download {AuditId} of {DocumentId} by {UserId} via {DeliveryMode}", auditId, id, actor.UserId, settings.DeliveryMode);

        if (settings.DeliveryMode == DeliveryMode.XAccel)
        {
            headers.ContentType = doc.ContentType;
            headers["X-Accel-Redirect"] = XAccelTarget(options.InternalPrefix, doc.ContentHash);
            headers["X-Accel-Buffering"] = "no";
            if (options.LimitRateBytesPerSecond > 0) headers["X-Accel-Limit-Rate"] = options.LimitRateBytesPerSecond.ToString();
            return Results.Empty;
        }

        var path = storage.PathFor(doc.ContentHash);
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            log.LogError("Stored content {ContentHash} of document {DocumentId} is missing", doc.ContentHash, id);
            return Results.Problem("The document's content is missing from storage.", statusCode: StatusCodes.Status500InternalServerError);
        }
        return Results.File(path, doc.ContentType, lastModified: file.LastWriteTimeUtc,
            entityTag: new EntityTagHeaderValue($"\"{doc.ContentHash}\""), enableRangeProcessing: true);
    }

    /// <summary>The internal location plus the storage key, each segment percent-encoded (the key is hex today).</summary>
    internal static string XAccelTarget(string internalPrefix, string contentHash) =>
        internalPrefix.TrimEnd('/') + "/" + string.Join('/', DocumentStorage.KeyFor(contentHash).Split('/').Select(Uri.EscapeDataString));

    /// <summary>The folder path by names, as it is now, for the audit record ("/Company/Policies").</summary>
    internal static async Task<string> FolderNamesPathAsync(PortalDbContext db, string materializedPath, CancellationToken ct)
    {
        var ids = Folder.AncestorIdsOf(materializedPath);
        var names = await db.Folders.Where(f => ids.Contains(f.Id)).Select(f => new { f.Id, f.Name }).ToDictionaryAsync(f => f.Id, f => f.Name, ct);
        return "/" + string.Join('/', ids.Select(i => names.GetValueOrDefault(i, "?")));
    }
}
