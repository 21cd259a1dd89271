using Microsoft.AspNetCore.Diagnostics;
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
        // Clears any X-Accel or file headers already set: nothing is served unrecorded.
        await ServiceUnavailable.WriteAsync(http, problems, "The audit log is unavailable", Detail, ct);
        return true;
    }
}
