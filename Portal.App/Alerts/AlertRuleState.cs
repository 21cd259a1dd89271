using Portal.Data.Alerts;
using Portal.Data.Audit;

namespace Portal.App.Alerts;

/// <summary>A rule that fired on one event: who, why, and the evidence.</summary>
public sealed record Firing(AlertRule Rule, AuditEvent Trigger, string Summary, IReadOnlyList<long> Evidence);

/// <summary>
/// What one rule keeps between events, so each event is evaluated on its own (no rescan): sliding windows per person for
/// the bursts, the day's bytes per person, who was already alerted today. Fed every committed event in id order; events
/// fed with <c>raise: false</c> (the warm-up after an instance takes over) build the state without firing again.
/// </summary>
public sealed class AlertRuleState(AlertRule rule)
{
    private readonly Dictionary<Guid, Queue<(long Id, DateTimeOffset At)>> _windows = [];
    private readonly HashSet<Guid> _above = [];
    private readonly Dictionary<Guid, (DateOnly Day, long Bytes)> _daily = [];
    private readonly Dictionary<Guid, DateOnly> _alertedOn = [];
    private readonly TimeZoneInfo _zone = ZoneOf(rule.TimeZone);

    public AlertRule Rule => rule;

    public static TimeZoneInfo ZoneOf(string id) =>
        TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) ? zone : TimeZoneInfo.Utc;

    /// <summary>How far back the warm-up must read for this rule.</summary>
    public DateTimeOffset WarmUpFrom(DateTimeOffset at) => rule.Kind switch
    {
        AlertRuleKind.DownloadBurst or AlertRuleKind.DeniedBurst => at - TimeSpan.FromMinutes(rule.WindowMinutes),
        AlertRuleKind.DailyVolume or AlertRuleKind.OffHoursDownload => at - TimeSpan.FromDays(1),
        _ => at,
    };

    public static bool IsDownload(AuditEvent e) =>
        e.Outcome == AuditOutcome.Allowed && e.Action is AuditAction.DocumentDownloaded or AuditAction.DocumentViewed;

    /// <summary>
    /// Evaluates <paramref name="e"/>; <paramref name="inFolder"/> says whether the event's folder is the rule's folder or
    /// below it, <paramref name="firstAccess"/> whether the person never accessed the document before (both asked only
    /// for the rules that need them).
    /// </summary>
    public async Task<Firing?> FeedAsync(AuditEvent e, bool raise, Func<Guid?, Guid?, Task<bool>> inFolder, Func<AuditEvent, Task<bool>> firstAccess)
    {
        if (e.ActorUserId is not { } person) return null;
        switch (rule.Kind)
        {
            case AlertRuleKind.DownloadBurst when IsDownload(e):
            case AlertRuleKind.DeniedBurst when e.Outcome == AuditOutcome.Denied:
            {
                if (!_windows.TryGetValue(person, out var window)) _windows[person] = window = new();
                window.Enqueue((e.Id, e.OccurredAt));
                var from = e.OccurredAt - TimeSpan.FromMinutes(rule.WindowMinutes);
                while (window.Peek().At <= from) window.Dequeue();
                if (window.Count <= rule.Threshold)
                {
                    _above.Remove(person);
                    if (window.Count == 0) _windows.Remove(person);
                    return null;
                }
                if (!_above.Add(person) || !raise) return null; // already alerted for this run of activity
                var what = rule.Kind == AlertRuleKind.DownloadBurst ? "downloads" : "denied attempts";
                return new Firing(rule, e, $"{window.Count} {what} in {rule.WindowMinutes} minutes (more than {rule.Threshold})",
                    window.Select(w => w.Id).TakeLast(100).ToList());
            }
            case AlertRuleKind.DailyVolume when IsDownload(e) && e.Size is { } size:
            {
                var day = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(e.OccurredAt, _zone).DateTime);
                var (d, bytes) = _daily.GetValueOrDefault(person);
                bytes = d == day ? bytes + size : size;
                _daily[person] = (day, bytes);
                if (bytes <= rule.Threshold || _alertedOn.GetValueOrDefault(person) == day) return null;
                _alertedOn[person] = day;
                return raise ? new Firing(rule, e, $"{bytes:N0} bytes downloaded on {day:yyyy-MM-dd} (more than {rule.Threshold:N0})", [e.Id]) : null;
            }
            case AlertRuleKind.OffHoursDownload when IsDownload(e):
            {
                var local = TimeZoneInfo.ConvertTime(e.OccurredAt, _zone);
                var working = local.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday)
                    && local.Hour >= rule.WorkdayStartHour && local.Hour < rule.WorkdayEndHour;
                if (working || !await inFolder(rule.FolderId, e.FolderId)) return null;
                var day = DateOnly.FromDateTime(local.DateTime);
                if (_alertedOn.GetValueOrDefault(person) == day) return null; // one alert per person and day
                _alertedOn[person] = day;
                return raise ? new Firing(rule, e, $"Download at {local:yyyy-MM-dd HH:mm} ({rule.TimeZone}), outside working hours {rule.WorkdayStartHour:00}:00–{rule.WorkdayEndHour:00}:00 Monday to Friday", [e.Id]) : null;
            }
            case AlertRuleKind.SensitiveFirstAccess when IsDownload(e) && e.DocumentId is not null:
            {
                if (!raise || !await inFolder(rule.FolderId, e.FolderId) || !await firstAccess(e)) return null;
                return new Firing(rule, e, $"First access to \"{e.TargetName}\" in a sensitive folder", [e.Id]);
            }
        }
        return null;
    }
}
