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
        // A person loading a page read raw JSON here before; now a page in words.
        await ServiceUnavailable.WriteAsync(http, problems, "The portal is unavailable right now", Detail, ct);
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
