using System.Security.Claims;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Portal.App.Audit;
using Portal.App.Auth;
using Portal.Data;
using Portal.Data.Alerts;
using Portal.Data.Audit;

namespace Portal.App.Alerts;

/// <summary>The result of an operation on alerts: done, or refused with the reason in words.</summary>
public sealed record AlertResult(bool Ok, string? Error = null)
{
    public static readonly AlertResult Done = new(true);
}

/// <summary>
/// What compliance officers do with alerts: edit rules, acknowledge and resolve alerts, release suspended downloads.
/// Every operation checks the role on the server and is recorded (a refusal too), with before and after.
/// </summary>
public sealed class AlertOperations(IDbContextFactory<PortalDbContext> contexts, AuditLog audit, DownloadSuspensions suspensions, TimeProvider clock)
{
    public Task<List<AlertRule>> RulesAsync(CancellationToken ct = default) =>
        WithDbAsync(db => db.AlertRules.AsNoTracking().OrderBy(r => r.Name).ToListAsync(ct), ct);

    public Task<List<Alert>> AlertsAsync(bool includeResolved, CancellationToken ct = default) =>
        WithDbAsync(db => db.Alerts.AsNoTracking().Where(a => includeResolved || a.Status != AlertStatus.Resolved)
            .OrderByDescending(a => a.RaisedAt).Take(500).ToListAsync(ct), ct);

    public Task<List<DownloadSuspension>> SuspensionsAsync(CancellationToken ct = default) =>
        WithDbAsync(db => db.DownloadSuspensions.AsNoTracking().OrderBy(s => s.SuspendedAt).ToListAsync(ct), ct);

    /// <summary>Live folders by their names' path, for the rules' folder picker.</summary>
    public Task<List<(Guid Id, string Name)>> FoldersAsync(CancellationToken ct = default) =>
        WithDbAsync(async db => (await db.Folders.AsNoTracking().Where(f => !f.IsDeleted).Select(f => new { f.Id, f.Name, f.Path }).ToListAsync(ct))
            .Select(f => (f.Id, f.Name)).OrderBy(f => f.Name, StringComparer.CurrentCulture).ToList(), ct);

    /// <summary>What is wrong with a rule, in words, or null.</summary>
    public static string? Check(AlertRule rule)
    {
        if (string.IsNullOrWhiteSpace(rule.Name) || rule.Name.Length > 200) return "Give the rule a name (at most 200 characters).";
        if (rule.Name.Any(char.IsControl)) return "The name may not hold control characters.";
        switch (rule.Kind)
        {
            case AlertRuleKind.DownloadBurst or AlertRuleKind.DeniedBurst:
                if (rule.Threshold is < 1 or > 1_000_000) return "The count must be between 1 and 1,000,000.";
                if (rule.WindowMinutes is < 1 or > 1440) return "The window must be between 1 and 1440 minutes.";
                break;
            case AlertRuleKind.DailyVolume:
                if (rule.Threshold < 1) return "The number of bytes must be at least 1.";
                break;
            case AlertRuleKind.OffHoursDownload or AlertRuleKind.SensitiveFirstAccess:
                if (rule.FolderId is null) return "Choose the folder the rule watches.";
                break;
        }
        if (rule.WorkdayStartHour is < 0 or > 23 || rule.WorkdayEndHour is < 1 or > 24 || rule.WorkdayStartHour >= rule.WorkdayEndHour)
            return "Working hours must start before they end (hours 0 to 24).";
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(rule.TimeZone, out _)) return $"'{rule.TimeZone}' is not a known time zone (for example Europe/Paris).";
        return null;
    }

    /// <summary>Creates (Id empty) or changes a rule.</summary>
    public async Task<AlertResult> SaveRuleAsync(ClaimsPrincipal caller, AlertRule changed, HttpContext? http, CancellationToken ct = default)
    {
        if (Refused(caller, AuditAction.AlertRuleChanged, http) is { } refusal) { await audit.AppendAsync(refusal, ct); return new(false, refusal.Reason); }
        if (Check(changed) is { } error) return new(false, error);
        await using var db = await contexts.CreateDbContextAsync(ct);
        var rule = changed.Id == Guid.Empty ? null : await db.AlertRules.FirstOrDefaultAsync(r => r.Id == changed.Id, ct);
        if (changed.Id != Guid.Empty && rule is null) return new(false, "The rule no longer exists.");
        var before = rule is null ? null : Describe(rule);
        if (rule is null) db.AlertRules.Add(rule = new AlertRule { Id = Guid.NewGuid() });
        rule.Name = changed.Name.Trim(); rule.Kind = changed.Kind; rule.Enabled = changed.Enabled; rule.Threshold = changed.Threshold;
        rule.WindowMinutes = changed.WindowMinutes; rule.FolderId = changed.FolderId; rule.WorkdayStartHour = changed.WorkdayStartHour;
        rule.WorkdayEndHour = changed.WorkdayEndHour; rule.TimeZone = changed.TimeZone; rule.SuspendDownloads = changed.SuspendDownloads;
        var record = Record(caller, AuditAction.AlertRuleChanged, $"Alert rule \"{rule.Name}\" {(before is null ? "created" : "changed")}", http, before, Describe(rule));
        await CommitAsync(db, record, ct);
        changed.Id = rule.Id;
        return AlertResult.Done;
    }

    public async Task<AlertResult> DeleteRuleAsync(ClaimsPrincipal caller, Guid ruleId, HttpContext? http, CancellationToken ct = default)
    {
        if (Refused(caller, AuditAction.AlertRuleChanged, http) is { } refusal) { await audit.AppendAsync(refusal, ct); return new(false, refusal.Reason); }
        await using var db = await contexts.CreateDbContextAsync(ct);
        var rule = await db.AlertRules.FirstOrDefaultAsync(r => r.Id == ruleId, ct);
        if (rule is null) return new(false, "The rule no longer exists.");
        db.AlertRules.Remove(rule);
        await CommitAsync(db, Record(caller, AuditAction.AlertRuleChanged, $"Alert rule \"{rule.Name}\" removed", http, Describe(rule), null), ct);
        return AlertResult.Done;
    }

    public Task<AlertResult> AcknowledgeAsync(ClaimsPrincipal caller, Guid alertId, HttpContext? http, CancellationToken ct = default) =>
        ChangeStatusAsync(caller, alertId, AlertStatus.Acknowledged, http, ct);

    public Task<AlertResult> ResolveAsync(ClaimsPrincipal caller, Guid alertId, HttpContext? http, CancellationToken ct = default) =>
        ChangeStatusAsync(caller, alertId, AlertStatus.Resolved, http, ct);

    private async Task<AlertResult> ChangeStatusAsync(ClaimsPrincipal caller, Guid alertId, AlertStatus status, HttpContext? http, CancellationToken ct)
    {
        var action = status == AlertStatus.Resolved ? AuditAction.AlertResolved : AuditAction.AlertAcknowledged;
        if (Refused(caller, action, http) is { } refusal) { await audit.AppendAsync(refusal, ct); return new(false, refusal.Reason); }
        await using var db = await contexts.CreateDbContextAsync(ct);
        var alert = await db.Alerts.FirstOrDefaultAsync(a => a.Id == alertId, ct);
        if (alert is null) return new(false, "The alert no longer exists.");
        if (alert.Status == status || alert.Status == AlertStatus.Resolved) return new(false, $"The alert is already {alert.Status.ToString().ToLowerInvariant()}.");
        var before = new { status = alert.Status.ToString() };
        var who = caller.Identity?.Name ?? "?";
        if (status == AlertStatus.Acknowledged) { alert.AcknowledgedAt = clock.GetUtcNow(); alert.AcknowledgedBy = who; }
        else { alert.ResolvedAt = clock.GetUtcNow(); alert.ResolvedBy = who; }
        alert.Status = status;
        var record = Record(caller, action, $"{alert.RuleName}: {alert.Summary}", http, before, new { status = status.ToString() });
        record.TargetName = alert.UserDisplayName;
        record.Changes = JsonSerializer.Serialize(new { before, after = new { status = status.ToString(), alert = alert.Id, raisedBy = alert.AuditEventId } });
        await CommitAsync(db, record, ct);
        return AlertResult.Done;
    }

    /// <summary>Lets a suspended person download again.</summary>
    public async Task<AlertResult> ReleaseAsync(ClaimsPrincipal caller, Guid userId, HttpContext? http, CancellationToken ct = default)
    {
        if (Refused(caller, AuditAction.DownloadsReleased, http) is { } refusal) { await audit.AppendAsync(refusal, ct); return new(false, refusal.Reason); }
        await using var db = await contexts.CreateDbContextAsync(ct);
        var suspension = await db.DownloadSuspensions.FirstOrDefaultAsync(s => s.UserId == userId, ct);
        if (suspension is null) return new(false, "This person's downloads are not suspended.");
        db.DownloadSuspensions.Remove(suspension);
        var record = Record(caller, AuditAction.DownloadsReleased, $"Downloads of {suspension.UserDisplayName} released", http,
            new { suspended = true, reason = suspension.Reason, alert = suspension.AlertId }, new { suspended = false });
        record.TargetName = suspension.UserDisplayName;
        await CommitAsync(db, record, ct);
        await suspensions.RefreshAsync(ct);
        return AlertResult.Done;
    }

    /// <summary>Saves the change tracked on <paramref name="db"/> and its event in one transaction: both or neither.</summary>
    private Task CommitAsync(PortalDbContext db, AuditEvent record, CancellationToken ct) =>
        audit.CommitWithChangeAsync(db, change => { change.Record(record); return Task.FromResult(true); }, ct);

    private static AuditEvent? Refused(ClaimsPrincipal caller, AuditAction action, HttpContext? http) =>
        caller.IsInRole(PortalRoles.ComplianceOfficer) ? null
            : AuditEventFactory.For(caller, action, AuditOutcome.Denied, "Only compliance officers may manage alerts", http);

    private static AuditEvent Record(ClaimsPrincipal caller, AuditAction action, string reason, HttpContext? http, object? before, object? after)
    {
        var e = AuditEventFactory.For(caller, action, AuditOutcome.Allowed, reason, http);
        e.Changes = JsonSerializer.Serialize(new { before, after });
        return e;
    }

    private static object Describe(AlertRule r) => new
    {
        name = r.Name, kind = r.Kind.ToString(), enabled = r.Enabled, threshold = r.Threshold, windowMinutes = r.WindowMinutes,
        folder = r.FolderId, workdayStartHour = r.WorkdayStartHour, workdayEndHour = r.WorkdayEndHour, timeZone = r.TimeZone,
        suspendDownloads = r.SuspendDownloads,
    };

    private async Task<T> WithDbAsync<T>(Func<PortalDbContext, Task<T>> read, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await read(db);
    }
}
