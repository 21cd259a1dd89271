using Microsoft.AspNetCore.Diagnostics;
using Portal.App.Downloads;
using Portal.App.Hosting;
using Portal.Data.Audit;

namespace Portal.App.Audit;

/// <summary>When the audit log cannot be written, the request fails closed with 503: nothing happens unrecorded.</summary>
public sealed class AuditUnavailableHandler(IProblemDetailsService problems) : IExceptionHandler
{
    /// <summary>What a person is told, on a page, in the problem document or in the app's own pages.</summary>
    public const string Detail = "This action cannot be recorded right now, so it was not carried out. Try again shortly.";

    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        if (exception is not AuditWriteException) return false;
        http.Response.Clear(); // drop any X-Accel or file headers already set
        http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        http.Response.Headers.RetryAfter = "5";
        // A link a person followed; pages have their own error display and fetches want JSON.
        if (PlainPage.IsNavigation(http.Request) && DownloadEndpoints.IsDownloadOrView(http.Request.Path))
        {
            await RefusalPage.For(http, StatusCodes.Status503ServiceUnavailable, Detail).ExecuteAsync(http);
            return true;
        }
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "The audit log is unavailable",
                Detail = Detail,
            },
        });
    }
}
