namespace Portal.App.Hosting;

/// <summary>
/// The browser-side protections on every page and API answer, from the app itself, so the embedded default (no nginx)
/// has them too: no framing (clickjacking), no MIME sniffing, no referrer leaving the site, and a Content Security Policy
/// that lets scripts, styles, connections and images come from this site only. Behind nginx, nginx sets the first three
/// itself (for its own error pages too) and hides the app's copies, so each comes once; the policy comes from the app.
/// </summary>
public static class SecurityHeaders
{
    /// <summary>
    /// Blazor Server needs no eval and no inline script; MudBlazor's components set inline styles ('unsafe-inline' for
    /// styles only). 'self' in connect-src covers the circuit's WebSocket on the same host.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
        "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((http, next) =>
    {
        // Downloads and views set their own (nosniff, a file's type and disposition) and are the hot path: left alone.
        // A view's policy is the handler's (a sandbox; a PDF's keeps the browser's viewer running), and so is the
        // cross-site confirmation page's (CrossSiteConfirmation).
        if (!Downloads.DownloadEndpoints.IsDownloadOrView(http.Request.Path))
            http.Response.OnStarting(static state =>
            {
                var headers = ((HttpContext)state).Response.Headers;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "same-origin";
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                return Task.CompletedTask;
            }, http);
        return next(http);
    });
}
