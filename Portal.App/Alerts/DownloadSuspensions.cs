using System.Collections.Frozen;
using Microsoft.EntityFrameworkCore;
using Portal.App.Audit;
using Portal.App.Downloads;
using Portal.Data;
using Portal.Data.Audit;

namespace Portal.App.Alerts;

/// <summary>
/// Who may not download now (an alert rule's automatic response), kept in memory for the download decision: one set
/// lookup, no database read on the hot path. Refreshed from the database every <see cref="Refresh"/> (changes made by
/// another instance arrive within that) and at once after a change made here.
/// </summary>
public sealed class DownloadSuspensions(IDbContextFactory<PortalDbContext> contexts, AuditLog audit, ILogger<DownloadSuspensions> log) : BackgroundService
{
    public static readonly TimeSpan Refresh = TimeSpan.FromSeconds(2);
    private volatile FrozenSet<Guid> _suspended = FrozenSet<Guid>.Empty;

    public bool IsSuspended(Guid userId) => _suspended.Count != 0 && _suspended.Contains(userId);

    public async Task RefreshAsync(CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        _suspended = (await db.DownloadSuspensions.Select(s => s.UserId).ToListAsync(ct)).ToFrozenSet();
    }

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try { await RefreshAsync(stop); }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { break; }
            catch (Exception e) { log.LogWarning("Could not read download suspensions: {Error}", e.Message); }
            try { await Task.Delay(Refresh, stop); } catch (OperationCanceledException) { break; }
        }
    }

    /// <summary>The refusal of a suspended person's download or view: recorded (denied), then the reason in words.</summary>
    public async Task<IResult> RefuseAsync(HttpContext http, Guid documentId, bool inline)
    {
        var record = AuditEventFactory.For(http, inline ? AuditAction.DocumentViewed : AuditAction.DocumentDownloaded, AuditOutcome.Denied,
            "Downloads suspended by an alert until a compliance officer releases them");
        record.DocumentId = documentId;
        await audit.AppendAsync(record, http.RequestAborted);
        return RefusalPage.For(http, StatusCodes.Status403Forbidden,
            "Your downloads are suspended after an alert on unusual activity. A compliance officer can release them.");
    }
}
