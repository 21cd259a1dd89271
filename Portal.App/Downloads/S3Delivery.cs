using Microsoft.Net.Http.Headers;
using Portal.App.Documents.Storage;
using Portal.App.Hosting;

namespace Portal.App.Downloads;

/// <summary>
/// Delivery of documents kept in an S3-compatible bucket. XAccel: the app answers X-Accel-Redirect to nginx's
/// internal S3 location plus a presigned URL in a header nginx reads and never passes on; nginx fetches the
/// object and sends it (Range, receipts, rate limit as for local files). Direct: the app streams the object itself.
/// </summary>
public static class S3Delivery
{
    /// <summary>The presigned URL for nginx (read there as $upstream_http_x_portal_s3_url; never reaches the client).</summary>
    public const string UrlHeader = "X-Portal-S3-Url";

    /// <summary>Sets the presigned URL header and returns the X-Accel-Redirect target (the key is a content hash).</summary>
    public static string Redirect(IHeaderDictionary headers, S3DocumentStore store, DeliveryOptions options, string contentHash, bool head)
    {
        // The query stays out of X-Accel-Redirect: nginx would decode and re-split it; a header passes it as is.
        headers[UrlHeader] = store.PresignedUrl(contentHash, head);
        return DownloadEndpoints.XAccelTarget(options.S3InternalPrefix, contentHash);
    }

    /// <summary>Direct mode: the whole object through the app (no Range: that is what nginx is for).</summary>
    public static async Task<IResult> StreamAsync(S3DocumentStore store, string contentHash, string contentType, ILogger log, CancellationToken ct)
    {
        var stream = await store.OpenReadAsync(contentHash, ct);
        if (stream is null)
        {
            log.LogError("Stored content {ContentHash} is missing from the {Store}", contentHash, store.Description);
            return Results.Problem("The document's content is missing from storage.", statusCode: StatusCodes.Status500InternalServerError);
        }
        return Results.Stream(stream, contentType, entityTag: new EntityTagHeaderValue($"\"{contentHash}\""), enableRangeProcessing: false);
    }
}
