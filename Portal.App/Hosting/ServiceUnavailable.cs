using Microsoft.AspNetCore.Diagnostics;

namespace Portal.App.Hosting;

/// <summary>
/// The one way a request that could not be carried out for now answers (the database unreachable, the audit log not
/// writable): 503 with Retry-After, nothing else from the request left on the response (no file or X-Accel headers), a
/// short page in words for a person's browser, the problem document for scripts.
/// </summary>
public static class ServiceUnavailable
{
    public static async Task WriteAsync(HttpContext http, IProblemDetailsService problems, string title, string detail, CancellationToken ct)
    {
        http.Response.Clear();
        http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        http.Response.Headers.RetryAfter = "5";
        if (PlainPage.IsNavigation(http.Request))
        {
            // "Try again" loads the same address, but only where loading it again is harmless: not a form's POST (a GET
            // there answers 405), nor the sign-in callback (its code works once).
            var again = HttpMethods.IsGet(http.Request.Method) && !http.Request.Path.StartsWithSegments(PortalApp.OidcCallbackPath);
            http.Response.ContentType = "text/html; charset=utf-8";
            await http.Response.WriteAsync(PlainPage.Html(title, detail, again ? "" : "/", again ? "Try again" : "Back to the portal"), ct);
            return;
        }
        if (await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = http,
                ProblemDetails = { Status = StatusCodes.Status503ServiceUnavailable, Title = title, Detail = detail },
            }))
            return;
        http.Response.ContentType = "text/plain; charset=utf-8";
        await http.Response.WriteAsync($"{title}. {detail}", ct);
    }
}
