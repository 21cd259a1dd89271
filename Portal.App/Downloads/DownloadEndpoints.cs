using System.Globalization;
using Microsoft.Extensions.Options;
using Portal.App.Audit;
using Portal.App.Auth;
using Portal.App.Documents;
using Portal.App.Hosting;
using Portal.Data.Audit;
using Portal.Data.Downloads;
using Portal.Data.Permissions;

namespace Portal.App.Downloads;

/// <summary>
/// GET/HEAD /d/{id} (attachment) and /v/{id} (inline view, for types safe to show inline): who is it, may they,
/// record it (committed), then deliver: the app streams the file (Direct) or hands the transfer to nginx with
/// X-Accel-Redirect (XAccel). No byte leaves without an audit row; a refusal is recorded too.
/// </summary>
public static class DownloadEndpoints
{
    /// <summary>Shown inline by /v; anything else (HTML, SVG, scripts…) is always an attachment.</summary>
    private static readonly HashSet<string> SafeInlineTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "text/plain",
    };

    /// <summary>
    /// /v of an image or text (or anything else /v answers): a sandboxed document (no script, no form, no plugin, an
    /// opaque origin, so not our cookies or storage) that may load nothing but the image itself ('self' and data:) and
    /// the browser's own inline styles for its image or text view; never framed. Behind nginx it reaches the browser
    /// through the internal locations, which copy it from the app's answer (ops/nginx/templates/default.conf.template).
    /// </summary>
    public const string SandboxedViewPolicy = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'none'";

    /// <summary>
    /// /v of a PDF: no sandbox and no fetch directives. Chromium will not run its PDF viewer in a sandboxed document
    /// (no sandbox token re-enables it: crbug 41131921), and its viewer is a plugin embedded in a generated page with
    /// inline styles, so object-src, default-src or style-src limits leave it blank or cut. What stays: never framed,
    /// no form submitted anywhere, no base URL. The PDF's own scripts run in the viewer's PDFium sandbox, not as our page.
    /// </summary>
    public const string PdfViewPolicy = "frame-ancestors 'none'; form-action 'none'; base-uri 'none'";

    internal static string ViewPolicy(string contentType) =>
        contentType.Split(';', 2)[0].Trim().Equals("application/pdf", StringComparison.OrdinalIgnoreCase) ? PdfViewPolicy : SandboxedViewPolicy;

    /// <summary>The header that carries the audit id to nginx's receipt log; nginx never passes it to the client.</summary>
    public const string AuditHeader = "X-Portal-Audit";

    public static IEndpointRouteBuilder MapDownloadEndpoints(this IEndpointRouteBuilder app)
    {
        string[] methods = [HttpMethods.Get, HttpMethods.Head];
        app.MapMethods("/d/{id:guid}", methods, (Guid id, HttpContext http, DownloadHandler handler) => handler.HandleAsync(id, inline: false, http))
            .RequireAuthorization().WithName("Download");
        app.MapMethods("/v/{id:guid}", methods, (Guid id, HttpContext http, DownloadHandler handler) => handler.HandleAsync(id, inline: true, http))
            .RequireAuthorization().WithName("View");
        // The same view with the document's name as the last segment: the browser's tab (and its PDF viewer) shows the
        // name instead of an id. The name is not used to find anything.
        app.MapMethods("/v/{id:guid}/{name}", methods, (Guid id, HttpContext http, DownloadHandler handler) => handler.HandleAsync(id, inline: true, http))
            .RequireAuthorization();
        return app;
    }

    /// <summary>
    /// Text without a declared charset goes out as UTF-8: browsers read it as windows-1252 otherwise ("RÃ©sumÃ©" for
    /// "Résumé"), and nosniff stops them from guessing. The stored type stays as derived from the name.
    /// </summary>
    internal static string DeliveredType(string contentType) =>
        contentType.StartsWith("text/", StringComparison.OrdinalIgnoreCase) && !contentType.Contains("charset", StringComparison.OrdinalIgnoreCase)
            ? contentType + "; charset=utf-8"
            : contentType;

    /// <summary>A download or view (/d/…, /v/…): answered by <see cref="DownloadHandler"/>, the hot path.</summary>
    public static bool IsDownloadOrView(PathString path) => path.StartsWithSegments("/d") || path.StartsWithSegments("/v");

    internal static bool IsSafeInline(string contentType) =>
        SafeInlineTypes.Contains(contentType.Split(';', 2)[0].Trim());

    /// <summary>The internal location plus the storage key, each segment percent-encoded (the key is hex today).</summary>
    internal static string XAccelTarget(string internalPrefix, string contentHash) =>
        internalPrefix.TrimEnd('/') + "/" + string.Join('/', DocumentStorage.KeyFor(contentHash).Split('/').Select(Uri.EscapeDataString));
}

/// <summary>The decision and the answer for one download or view request.</summary>
public sealed class DownloadHandler(
    DownloadReads reads, DecisionCache cache, AuditLog audit, IDocumentDelivery delivery,
    DownloadSlots slots, IOptionsMonitor<DeliveryOptions> deliveryOptions, PortalSettings settings, PortalMetrics metrics,
    DeliveryReceiptListener receipts, TimeProvider clock, ILogger<DownloadHandler> log, Alerts.DownloadSuspensions suspensions)
{
    /// <summary>What was asked: the document, an older version of it or the current one, attachment or inline, GET or HEAD.</summary>
    private readonly record struct Asked(Guid Id, int? Version, bool Inline, bool IsHead);

    public async Task<IResult> HandleAsync(Guid id, bool inline, HttpContext http)
    {
        var ct = http.RequestAborted;
        var actor = http.User.ToActor();
        if (actor is null) return Results.Unauthorized();
        // Before anything is recorded (a suspension's refusal included): another site's navigation only gets a question.
        if (CrossSiteConfirmation.Applies(http)) return await ConfirmCrossSiteAsync(id, inline, http, actor);
        // An alert rule's automatic response: refused (and recorded) until a compliance officer releases them. In memory.
        if (suspensions.IsSuspended(actor.UserId)) return await suspensions.RefuseAsync(http, id, inline);

        // ?version=n asks for an older version: same rights, same audit, the version named in the
        // event. Checked before any query: a malformed one costs nothing.
        if (!TryVersion(http, out var version)) return BadVersion(http);
        var asked = new Asked(id, version, inline, HttpMethods.IsHead(http.Request.Method));

        // The current version of a document this person asked for before: decided on the facts read then, and recorded
        // (so served) only if nothing that decides access has changed since; otherwise decided again from the database.
        if (version is null && cache.Find(id, actor) is { } kept)
        {
            try
            {
                return await DecideAsync(asked, http, actor, kept, kept.Document, decidedAt: kept.AccessVersion);
            }
            catch (AccessChangedException)
            {
                cache.Forget(id, actor);
                log.LogDebug("Access changed since the download of {DocumentId} by {UserId} was last read; deciding again", id, actor.UserId);
            }
        }

        DocumentAccess? found;
        DeliverableDocument? doc;
        await using (var decision = await reads.OpenAsync(ct))
        {
            // The document and the rights on its folder together (one round trip on PostgreSQL).
            found = await decision.LiveDocumentWithAccessAsync(id, actor, ct);
            doc = found?.Document;
            if (doc is not null && version is { } v && v != doc.CurrentVersion)
            {
                var older = await decision.VersionAsync(id, v, ct);
                doc = older is null ? null : doc with { ContentHash = older.ContentHash, Size = older.Size, ContentType = older.ContentType };
            }
        }
        if (found is not null && version is null) cache.Keep(id, actor, found);
        // Read just now: recorded whatever changes meanwhile, as before the cache (a change committed after the read
        // comes after this access).
        return await DecideAsync(asked, http, actor, found, doc, decidedAt: null);
    }

    private static bool TryVersion(HttpContext http, out int? version)
    {
        version = null;
        var asked = http.Request.Query["version"].ToString();
        if (asked.Length == 0) return true;
        if (!int.TryParse(asked, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1) return false;
        version = n;
        return true;
    }

    private static IResult BadVersion(HttpContext http) =>
        RefusalPage.For(http, StatusCodes.Status400BadRequest, "The version must be a positive number.");

    /// <summary>
    /// The question asked instead of a cross-site download or view (see <see cref="CrossSiteConfirmation"/>): nothing is
    /// recorded, no slot taken, nothing cached. The name is shown only to someone who may at least see the document.
    /// </summary>
    private async Task<IResult> ConfirmCrossSiteAsync(Guid id, bool inline, HttpContext http, Actor actor)
    {
        if (!TryVersion(http, out var version)) return BadVersion(http);
        DocumentAccess? found;
        await using (var decision = await reads.OpenAsync(http.RequestAborted))
            found = await decision.LiveDocumentWithAccessAsync(id, actor, http.RequestAborted);
        var name = found is not null && found.Access.Rights.HasFlag(Rights.Browse) ? found.Document.DisplayName : null;
        return CrossSiteConfirmation.Page(http, name, inline, CrossSiteConfirmation.SameRequest(http, id, inline, version));
    }

    /// <summary>
    /// Records the decision on <paramref name="found"/> (committed, at access version <paramref name="decidedAt"/> if
    /// given) and answers it: the refusal, or the delivery.
    /// </summary>
    /// <exception cref="AccessChangedException">The access version moved on from <paramref name="decidedAt"/>: nothing was recorded or sent.</exception>
    private async Task<IResult> DecideAsync(Asked asked, HttpContext http, Actor actor, DocumentAccess? found, DeliverableDocument? doc, long? decidedAt)
    {
        var ct = http.RequestAborted;
        var (id, version, inline, isHead) = asked;
        var options = deliveryOptions.CurrentValue;
        var record = AuditEventFactory.For(http, inline ? AuditAction.DocumentViewed : AuditAction.DocumentDownloaded, AuditOutcome.Denied);
        record.DocumentId = id;
        record.Range = http.Request.Headers.Range.ToString() is { Length: > 0 } range ? range[..Math.Min(range.Length, 200)] : null;
        if (isHead) record.Reason = "HEAD: headers only";

        if (version is not null) record.Reason = $"Version {version}" + (isHead ? "; HEAD: headers only" : "");
        if (doc is null)
        {
            record.Reason = version is null ? "No such document" : $"No such document or version {version}";
            await audit.AppendAsync(record, decidedAt, ct);
            metrics.Download("not_found");
            return RefusalPage.For(http, StatusCodes.Status404NotFound, "No document has this id, or it was deleted.");
        }

        var access = found!.Access;
        record.FolderId = doc.FolderId;
        record.TargetName = doc.DisplayName;
        record.TargetPath = access.NamesPath;
        record.ContentHash = doc.ContentHash;
        record.Size = doc.Size;

        if (!access.Rights.HasFlag(Rights.Download))
        {
            record.Reason = "No Download right on the folder" + (version is null ? "" : $" (version {version})");
            await audit.AppendAsync(record, decidedAt, ct);
            metrics.Download("denied");
            log.LogInformation("Download of {DocumentId} denied for {UserId}", id, actor.UserId);
            return RefusalPage.For(http, StatusCodes.Status403Forbidden, "You do not have permission to download this document.");
        }

        var budget = RatePolicy.BudgetFor(http.User, options.RateLimits);
        var rate = RatePolicy.PerDownloadRate(budget, options.MaxConcurrentPerUser);
        var (slot, retryAfter) = slots.TryAcquire(actor.UserId, options.MaxConcurrentPerUser, ExpectedDuration(doc.Size, rate));
        if (slot is null)
        {
            record.Reason = $"Too many downloads at once (limit {options.MaxConcurrentPerUser})";
            await audit.AppendAsync(record, decidedAt, ct);
            metrics.Download("too_many");
            var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
            http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return RefusalPage.For(http, StatusCodes.Status429TooManyRequests,
                $"You already have {options.MaxConcurrentPerUser} downloads running. Try again in {seconds} s.");
        }

        record.Outcome = AuditOutcome.Allowed;
        try
        {
            slot.AuditEventId = await audit.AppendAsync(record, decidedAt, ct);
        }
        catch
        {
            slots.Release(slot);
            throw; // AuditWriteException becomes 503: nothing is served unrecorded
        }

        metrics.Download("allowed");
        var disposition = inline && DownloadEndpoints.IsSafeInline(doc.ContentType) ? "inline" : "attachment";
        var headers = http.Response.Headers;
        headers.ContentDisposition = disposition == "inline" ? ContentDisposition.Inline(doc.DisplayName) : ContentDisposition.Attachment(doc.DisplayName);
        headers.CacheControl = options.CacheControl;
        headers.XContentTypeOptions = "nosniff";
        if (inline) headers.ContentSecurityPolicy = DownloadEndpoints.ViewPolicy(doc.ContentType);
        log.LogInformation("Delivering {DocumentId} to {UserId} (audit {AuditEventId}, {DeliveryMode}, {Rate} B/s)",
            id, actor.UserId, slot.AuditEventId, settings.DeliveryMode, rate);

        // X-Accel-Redirect (and with S3 the presigned URL) only to nginx: reached without it, the app sends the bytes itself.
        if (settings.DeliveryMode == DeliveryMode.XAccel && Portal.App.Hosting.TrustedNetworks.FromKnownProxy(http))
        {
            headers.ContentType = DownloadEndpoints.DeliveredType(doc.ContentType);
            headers["X-Accel-Redirect"] = delivery.XAccelRedirect(headers, options, doc.ContentHash, isHead);
            headers["X-Accel-Buffering"] = "no";
            headers["X-Accel-Limit-Rate"] = RatePolicy.NginxLimitRate(rate, doc.Size).ToString(CultureInfo.InvariantCulture);
            headers[DownloadEndpoints.AuditHeader] = slot.AuditEventId.Value.ToString(CultureInfo.InvariantCulture);
            // The slot is freed by nginx's receipt for this audit id, or expires (no receipts configured).
            return Results.Empty;
        }

        http.Response.OnCompleted(() => { slots.Release(slot); return Task.CompletedTask; });
        DirectDeliveryReceipt.Track(http, slot.AuditEventId.Value, clock, receipts);
        return await delivery.SendAsync(doc.ContentHash, DownloadEndpoints.DeliveredType(doc.ContentType), ct);
    }

    /// <summary>How long a slot may be held without a receipt: the transfer at the limited rate, plus a minute.</summary>
    private static TimeSpan ExpectedDuration(long size, long rate) =>
        TimeSpan.FromSeconds(60 + (rate > 0 ? size / (double)rate : size / (50.0 * 1024 * 1024)));
}
