using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Portal.App.Forwarding;
using Portal.App.Hosting;
using Portal.Data;
using Portal.Data.Alerts;
using Portal.Data.Audit;
using Portal.Data.Forwarding;

namespace Portal.App.Alerts;

/// <summary>
/// Evaluates the alert rules over committed audit events, incrementally: a cursor over the log ("alerts", in the
/// database, like a sink's), state kept per rule, and only indexed reads (the events after the cursor; on taking over,
/// the events of the longest window before it; a person's earlier accesses of one document). One instance evaluates at a
/// time (the cursor's lease), so several instances on one database raise each alert once.
/// </summary>
public sealed class AlertEvaluator(IDbContextFactory<PortalDbContext> contexts, AuditLog audit, CommittedEvents committed,
    DownloadSuspensions suspensions, ForwardingSettings forwarding, TimeProvider clock, ILogger<AlertEvaluator> log) : BackgroundService
{
    public const string CursorName = "alerts";
    private const int BatchSize = 500;

    private List<AlertRuleState> _states = [];
    private string _rulesVersion = "";
    private long? _position;
    private readonly Dictionary<Guid, string?> _folderPaths = [];

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        var wake = committed.Subscribe();
        var backoff = TimeSpan.Zero;
        await Task.Yield();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var more = await EvaluateOnceAsync(stop);
                backoff = TimeSpan.Zero;
                if (!more && await wake.WaitAsync(SinkForwarder.Poll, stop)) await Task.Delay(50, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { break; }
            catch (Exception e)
            {
                backoff = backoff == TimeSpan.Zero ? TimeSpan.FromSeconds(1) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
                log.LogWarning(e, "Alert evaluation failed; retrying in {Backoff}", backoff);
                _position = null;
                try { await Task.Delay(backoff, clock, stop); } catch (OperationCanceledException) { break; }
            }
        }
        try
        {
            await using var db = await contexts.CreateDbContextAsync(CancellationToken.None);
            await EventCursors.ReleaseAsync(db, CursorName, committed.InstanceId);
        }
        catch (Exception) { }
    }

    /// <summary>One step: evaluates up to a batch of new events. True when there may be more right away.</summary>
    internal async Task<bool> EvaluateOnceAsync(CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        // A new cursor starts at the end of the log: rules judge what happens from now on, not years of history.
        var startAt = await EventCursors.FindAsync(db, CursorName, ct) is null ? await EventCursors.LastCommittedIdAsync(db, ct) : 0;
        if (!await EventCursors.TryLeaseAsync(db, CursorName, committed.InstanceId, clock.GetUtcNow(), forwarding.Lease, startAt, ct))
        {
            _position = null;
            return false;
        }
        var rules = await db.AlertRules.AsNoTracking().Where(r => r.Enabled).OrderBy(r => r.Id).ToListAsync(ct);
        var version = string.Join(";", rules.Select(r => $"{r.Id}:{r.UpdatedAt.UtcTicks}"));
        if (_position is null || version != _rulesVersion)
        {
            var cursor = (await EventCursors.FindAsync(db, CursorName, ct))!.LastEventId;
            await WarmUpAsync(db, rules, cursor, ct);
            _rulesVersion = version;
            _position = cursor;
        }
        var events = await EventCursors.EventsAfterAsync(db, _position.Value, BatchSize, ct);
        if (events.Count == 0) return false;
        _folderPaths.Clear(); // folders move: read their paths again for each batch
        foreach (var e in events)
        {
            if (e.Action is AuditAction.AlertRaised) continue;
            foreach (var state in _states)
                if (await state.FeedAsync(e, raise: true, (f, g) => InFolderAsync(db, f, g, ct), x => FirstAccessAsync(db, x, ct)) is { } firing)
                    await RaiseAsync(firing, ct);
        }
        if (!await EventCursors.AdvanceAsync(db, CursorName, committed.InstanceId, events[^1].Id, clock.GetUtcNow(), ct))
        {
            _position = null; // another instance took over: it replays from the cursor (alerts already raised are found there)
            return false;
        }
        _position = events[^1].Id;
        return events.Count == BatchSize;
    }

    /// <summary>Builds the rules' state from the events just before the cursor, without raising anything.</summary>
    private async Task WarmUpAsync(PortalDbContext db, List<AlertRule> rules, long cursor, CancellationToken ct)
    {
        _states = rules.Select(r => new AlertRuleState(r)).ToList();
        if (_states.Count == 0 || cursor == 0) return;
        var at = await db.AuditEvents.Where(e => e.Id == cursor).Select(e => (DateTimeOffset?)e.OccurredAt).FirstOrDefaultAsync(ct);
        if (at is null) return;
        var from = _states.Min(s => s.WarmUpFrom(at.Value));
        if (from >= at.Value) return;
        // An index range on OccurredAt, bounded by the longest window (a day at most).
        var recent = await db.AuditEvents.AsNoTracking()
            .Where(e => e.OccurredAt > from && e.Id <= cursor && e.ActorUserId != null
                && (e.Outcome == AuditOutcome.Denied || e.Action == AuditAction.DocumentDownloaded || e.Action == AuditAction.DocumentViewed))
            .OrderBy(e => e.Id).ToListAsync(ct);
        foreach (var e in recent)
            foreach (var state in _states)
                if (e.OccurredAt > state.WarmUpFrom(at.Value))
                    await state.FeedAsync(e, raise: false, (f, g) => InFolderAsync(db, f, g, ct), _ => Task.FromResult(false));
    }

    private async Task<bool> InFolderAsync(PortalDbContext db, Guid? ruleFolder, Guid? eventFolder, CancellationToken ct)
    {
        if (ruleFolder is null || eventFolder is null) return false;
        var watched = await PathOfAsync(db, ruleFolder.Value, ct);
        var path = await PathOfAsync(db, eventFolder.Value, ct);
        return watched is not null && path is not null && path.StartsWith(watched, StringComparison.Ordinal);
    }

    private async Task<string?> PathOfAsync(PortalDbContext db, Guid folder, CancellationToken ct)
    {
        if (!_folderPaths.TryGetValue(folder, out var path))
            _folderPaths[folder] = path = await db.Folders.Where(f => f.Id == folder).Select(f => f.Path).FirstOrDefaultAsync(ct);
        return path;
    }

    /// <summary>Did this person access this document before this event? An index range on (DocumentId, Id).</summary>
    private static async Task<bool> FirstAccessAsync(PortalDbContext db, AuditEvent e, CancellationToken ct) =>
        !await db.AuditEvents.AnyAsync(p => p.DocumentId == e.DocumentId && p.Id < e.Id && p.ActorUserId == e.ActorUserId
            && p.Outcome == AuditOutcome.Allowed && (p.Action == AuditAction.DocumentDownloaded || p.Action == AuditAction.DocumentViewed), ct);

    /// <summary>
    /// Stores the alert (once per rule and trigger: a replay after a crash finds it), suspends the person if the rule
    /// says so, and records AlertRaised.
    /// </summary>
    private async Task RaiseAsync(Firing firing, CancellationToken ct)
    {
        var (rule, trigger) = (firing.Rule, firing.Trigger);
        await using var db = await contexts.CreateDbContextAsync(ct);
        var alert = await db.Alerts.FirstOrDefaultAsync(a => a.RuleId == rule.Id && a.TriggerEventId == trigger.Id, ct);
        if (alert?.AuditEventId is not null) return; // raised before a crash or a handover
        if (alert is null)
        {
            alert = new Alert
            {
                Id = Guid.NewGuid(), RuleId = rule.Id, RuleName = rule.Name, RuleKind = rule.Kind, TriggerEventId = trigger.Id,
                UserId = trigger.ActorUserId, UserDisplayName = trigger.ActorDisplayName, Summary = firing.Summary,
                EvidenceEventIds = string.Join(',', firing.Evidence), RaisedAt = clock.GetUtcNow(),
                SuspendedDownloads = rule.SuspendDownloads, Status = AlertStatus.Open,
            };
            db.Alerts.Add(alert);
            if (rule.SuspendDownloads && !await db.DownloadSuspensions.AnyAsync(s => s.UserId == trigger.ActorUserId, ct))
                db.DownloadSuspensions.Add(new DownloadSuspension
                {
                    UserId = trigger.ActorUserId!.Value, UserDisplayName = trigger.ActorDisplayName, AlertId = alert.Id,
                    Reason = $"{rule.Name}: {firing.Summary}", SuspendedAt = clock.GetUtcNow(),
                });
            await db.SaveChangesAsync(ct);
        }
        var record = new AuditEvent
        {
            Action = AuditAction.AlertRaised,
            Outcome = AuditOutcome.Allowed,
            Reason = Truncate($"{rule.Name}: {firing.Summary}{(rule.SuspendDownloads ? "; downloads suspended" : "")}", 500),
            ActorSubject = SettingsAudit.SystemSubject,
            ActorDisplayName = SettingsAudit.SystemName,
            DocumentId = trigger.DocumentId,
            FolderId = trigger.FolderId,
            TargetPath = trigger.TargetPath,
            TargetName = trigger.ActorDisplayName is { } name ? Truncate(name, 255) : null,
            Changes = JsonSerializer.Serialize(new
            {
                after = new
                {
                    alert = alert.Id, rule = rule.Name, ruleId = rule.Id, kind = rule.Kind.ToString(),
                    person = new { id = trigger.ActorUserId, name = trigger.ActorDisplayName, subject = trigger.ActorSubject },
                    evidence = firing.Evidence, suspended = rule.SuspendDownloads,
                },
            }),
        };
        alert.AuditEventId = await audit.AppendAsync(record, ct);
        await db.SaveChangesAsync(ct);
        if (rule.SuspendDownloads) await suspensions.RefreshAsync(ct);
        log.LogWarning("Alert {Rule} raised for {UserId}: {Summary}", rule.Name, trigger.ActorUserId, firing.Summary);
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];
}
