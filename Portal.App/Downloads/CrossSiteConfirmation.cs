using System.Globalization;
using System.Text;
using Portal.App.Audit;
using Portal.App.Hosting;

namespace Portal.App.Downloads;

/// <summary>
/// Another site's navigation is not a download (issue 25). A page elsewhere can send a signed-in person's browser to
/// /d/{id} or /v/{id} (the session cookie is SameSite=Lax, so it goes along); the browser says so with
/// Sec-Fetch-Site: cross-site. Such a request gets a short page on our origin asking "Download «name»?", with a button
/// repeating the same request from here (then same-origin), and nothing is recorded or sent until it is pressed: no
/// one can plant "Sam downloaded the salary file". Same-origin and same-site navigations, typed links and bookmarks
/// ("none"), and clients that send no Sec-Fetch headers are answered as before.
/// </summary>
public static class CrossSiteConfirmation
{
    /// <summary>Only a browser's own word that another site started this request; any other value, or none, is served as before.</summary>
    public static bool Applies(HttpContext http) => AuditEventFactory.FetchSite(http) == "cross-site";

    /// <summary>The same request from our own origin: the route's id and name (escaped) and the parsed version, nothing else.</summary>
    internal static string SameRequest(HttpContext http, Guid id, bool inline, int? version)
    {
        var href = new StringBuilder(http.Request.PathBase.ToUriComponent())
            .Append(inline ? "/v/" : "/d/").Append(id.ToString("D"));
        if (inline && http.GetRouteValue("name") is string { Length: > 0 } name) href.Append('/').Append(Uri.EscapeDataString(name));
        if (version is { } v) href.Append("?version=").Append(v.ToString(CultureInfo.InvariantCulture));
        return href.ToString();
    }

    /// <param name="name">The document's name, or null when the person may not see it (no Browse, or no such document):
    /// then the page names nothing, so it cannot tell them what a folder they cannot see holds.</param>
    public static IResult Page(HttpContext http, string? name, bool inline, string href)
    {
        var verb = inline ? "Open" : "Download";
        var what = name is null ? "this document" : $"«{name}»";
        var message = $"Another site sent you here to {verb.ToLowerInvariant()} {what}. Nothing has been {(inline ? "opened" : "downloaded")} yet: " +
            $"continue only if you meant to.";
        var html = PlainPage.Html($"{verb} {what}?", message, "/", "Back to the documents", (href, $"{verb} {(name is null ? "it" : what)}"));

        // The middleware that protects pages leaves /d and /v alone (they carry a file's own headers): this page is the
        // app's own HTML, so it gets the page protections here. Never framed (a frame could trick the click).
        var headers = http.Response.Headers;
        headers.XFrameOptions = "DENY";
        headers.ContentSecurityPolicy = SecurityHeaders.ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "same-origin";
        headers.CacheControl = "no-store";
        return Results.Content(html, "text/html; charset=utf-8", Encoding.UTF8, StatusCodes.Status200OK);
    }
}
