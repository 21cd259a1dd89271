using System.Data.Common;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Storage;

namespace Portal.App.Hosting;

/// <summary>
/// When the database cannot be reached (down, restarting, connections exhausted), a request fails with 503 and
/// Retry-After instead of a 500: the person is told to try again, monitoring sees an outage rather than a bug, and
/// the app recovers by itself once the database is back (found by bench/reliability.sh's database restart).
/// </summary>
public sealed class DatabaseUnavailableHandler(IProblemDetailsService problems, ILogger<DatabaseUnavailableHandler> log) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        if (!IsDatabaseUnavailable(exception) || http.Response.HasStarted) return false;
        log.LogWarning("The database is unavailable; {Method} {Path} answered 503", http.Request.Method, http.Request.Path.Value);
        http.Response.Clear();
        http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        http.Response.Headers.RetryAfter = "5";
        const string title = "The service is temporarily unavailable";
        if (PlainPage.IsNavigation(http.Request))
        {
            // A person loading a page read raw JSON here. "Try again" loads the same address, but only where loading it
            // again is harmless: not a form's POST (a GET there answers 405), nor the sign-in callback (its code works once).
            var again = HttpMethods.IsGet(http.Request.Method) && !http.Request.Path.StartsWithSegments(PortalApp.OidcCallbackPath);
            http.Response.ContentType = "text/html; charset=utf-8";
            await http.Response.WriteAsync(PlainPage.Html("The portal is unavailable right now", Detail,
                again ? "" : "/", again ? "Try again" : "Back to the portal"), ct);
            return true;
        }
        if (await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = http,
                ProblemDetails = { Status = StatusCodes.Status503ServiceUnavailable, Title = title, Detail = Detail },
            }))
            return true;
        http.Response.ContentType = "text/plain; charset=utf-8";
        await http.Response.WriteAsync($"{title}. {Detail}", ct);
        return true;
    }

    /// <summary>What a person is told, on a page or in the problem document.</summary>
    public const string Detail = "The portal cannot reach its database right now, so nothing was done. Try again in a few seconds.";

    /// <summary>A transient database failure anywhere in the chain (EF wraps the provider's exception).</summary>
    internal static bool IsDatabaseUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is DbException { IsTransient: true } or RetryLimitExceededException) return true;
        }
        return false;
    }
}
