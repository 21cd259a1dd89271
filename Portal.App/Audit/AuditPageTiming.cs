using System.Diagnostics;

namespace Portal.App.Audit;

/// <summary>
/// How long each interaction of the audit page takes on the server (the circuit's event until the page's new state is
/// ready to render), logged under its own category so bench/audit-page.sh can read the figures from the app's log
/// (Logging:LogLevel:Portal.App.Audit.AuditTiming=Information; off by default).
/// </summary>
public static class AuditPageTiming
{
    public const string Category = "Portal.App.Audit.AuditTiming";

    public static async Task<T> MeasureAsync<T>(ILogger log, string interaction, Func<Task<T>> work)
    {
        var started = Stopwatch.GetTimestamp();
        try { return await work(); }
        finally
        {
            if (log.IsEnabled(LogLevel.Information))
                log.LogInformation("Audit page: {Interaction} took {Milliseconds:0.0} ms", interaction, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }
}
