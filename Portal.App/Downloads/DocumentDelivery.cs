using Microsoft.Net.Http.Headers;
using Portal.App.Documents;
using Portal.App.Documents.Storage;
using Portal.App.Hosting;

namespace Portal.App.Downloads;

/// <summary>
/// How the bytes of an allowed download leave, for the store in use: through nginx (the X-Accel-Redirect target and
/// whatever nginx needs with it) or from the app itself (Direct mode). The download handler decides and records;
/// this only delivers.
/// </summary>
public interface IDocumentDelivery
{
    /// <summary>Sets any header nginx needs besides the redirect and returns the X-Accel-Redirect target.</summary>
    string XAccelRedirect(IHeaderDictionary headers, DeliveryOptions options, string contentHash, bool head);

    /// <summary>Direct mode: the app sends the bytes.</summary>
    Task<IResult> SendAsync(string contentHash, string contentType, CancellationToken ct);
}

public static class DocumentDelivery
{
    /// <summary>The delivery for the configured store (registered once, so no request asks which store it is).</summary>
    public static IDocumentDelivery For(DocumentStorage storage, ILoggerFactory logs) => storage.Store switch
    {
        S3DocumentStore bucket => new S3ObjectDelivery(bucket, logs.CreateLogger<S3ObjectDelivery>()),
        LocalDocumentStore folder => new LocalFileDelivery(folder, logs.CreateLogger<LocalFileDelivery>()),
        var other => throw new InvalidOperationException($"No delivery for a {other.GetType().Name}."),
    };

    internal static IResult ContentMissing(ILogger log, string contentHash, string store)
    {
        log.LogError("Stored content {ContentHash} is missing from the {Store}", contentHash, store);
        return Results.Problem("The document's content is missing from storage.", statusCode: StatusCodes.Status500InternalServerError);
    }
}

/// <summary>
/// Files in the local content-addressed folder. XAccel: nginx's internal location plus the key, each segment
/// percent-encoded (the key is hex today). Direct: the file with Range, If-Range and an ETag (the content hash).
/// </summary>
public sealed class LocalFileDelivery(LocalDocumentStore folder, ILogger<LocalFileDelivery> log) : IDocumentDelivery
{
    public string XAccelRedirect(IHeaderDictionary headers, DeliveryOptions options, string contentHash, bool head) =>
        DownloadEndpoints.XAccelTarget(options.InternalPrefix, contentHash);

    public Task<IResult> SendAsync(string contentHash, string contentType, CancellationToken ct)
    {
        var file = new FileInfo(folder.PathFor(contentHash));
        if (!file.Exists) return Task.FromResult(DocumentDelivery.ContentMissing(log, contentHash, folder.Description));
        return Task.FromResult(Results.File(file.FullName, contentType, lastModified: file.LastWriteTimeUtc,
            entityTag: new EntityTagHeaderValue($"\"{contentHash}\""), enableRangeProcessing: true));
    }
}

/// <summary>
/// Objects in an S3-compatible bucket. XAccel: the app answers X-Accel-Redirect to nginx's internal S3 location plus
/// a presigned URL in a header nginx reads and never passes on; nginx fetches the object and sends it (Range,
/// receipts, rate limit as for local files). Direct: the app streams the object itself.
/// </summary>
public sealed class S3ObjectDelivery(S3DocumentStore bucket, ILogger<S3ObjectDelivery> log) : IDocumentDelivery
{
    /// <summary>The presigned URL for nginx (read there as $upstream_http_x_portal_s3_url; never reaches the client).</summary>
    public const string UrlHeader = "X-Portal-S3-Url";

    public string XAccelRedirect(IHeaderDictionary headers, DeliveryOptions options, string contentHash, bool head)
    {
        // The query stays out of X-Accel-Redirect: nginx would decode and re-split it; a header passes it as is.
        headers[UrlHeader] = bucket.PresignedUrl(contentHash, head);
        return DownloadEndpoints.XAccelTarget(options.S3InternalPrefix, contentHash);
    }

    /// <summary>The object through the app, with Range and If-Range as for local files (a range is a ranged GET).</summary>
    public async Task<IResult> SendAsync(string contentHash, string contentType, CancellationToken ct)
    {
        var stream = await bucket.OpenReadAsync(contentHash, ct);
        if (stream is null) return DocumentDelivery.ContentMissing(log, contentHash, bucket.Description);
        return Results.Stream(stream, contentType, entityTag: new EntityTagHeaderValue($"\"{contentHash}\""), enableRangeProcessing: true);
    }
}
