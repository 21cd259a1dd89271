namespace Portal.Data.Alerts;

public enum AlertStatus
{
    Open,
    Acknowledged,
    Resolved,
}

/// <summary>A rule that fired for one person. Its audit event (AlertRaised) is <see cref="AuditEventId"/>.</summary>
public class Alert
{
    public Guid Id { get; set; }
    public Guid RuleId { get; set; }
    public string RuleName { get; set; } = "";
    public AlertRuleKind RuleKind { get; set; }
    /// <summary>The event that crossed the threshold; with <see cref="RuleId"/> it identifies the alert (one per trigger, even when replayed).</summary>
    public long TriggerEventId { get; set; }
    public Guid? UserId { get; set; }
    public string? UserDisplayName { get; set; }
    /// <summary>What happened, in words ("51 downloads in 10 minutes").</summary>
    public string Summary { get; set; } = "";
    /// <summary>The evidence events' ids, comma separated (at most the last 100).</summary>
    public string EvidenceEventIds { get; set; } = "";
    public DateTimeOffset RaisedAt { get; set; }
    /// <summary>The AlertRaised audit event.</summary>
    public long? AuditEventId { get; set; }
    public bool SuspendedDownloads { get; set; }
    public AlertStatus Status { get; set; }
    public DateTimeOffset? AcknowledgedAt { get; set; }
    public string? AcknowledgedBy { get; set; }
    public DateTimeOffset? ResolvedAt { get; set; }
    public string? ResolvedBy { get; set; }
}

/// <summary>A person whose downloads are refused until a compliance officer releases them (the row is then removed).</summary>
public class DownloadSuspension
{
    public Guid UserId { get; set; }
    public string? UserDisplayName { get; set; }
    public Guid? AlertId { get; set; }
    public string Reason { get; set; } = "";
    public DateTimeOffset SuspendedAt { get; set; }
}
