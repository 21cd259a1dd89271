namespace Portal.Data.Forwarding;

/// <summary>
/// How far a reader of committed audit events has got: a forwarding sink ("sink:siem") or the alert evaluator
/// ("alerts"). One row per reader, shared by every app instance; only the lease holder reads and moves it, so with
/// several instances one forwards a given sink at a time and an instance that dies hands over when its lease runs out.
/// </summary>
public class EventCursor
{
    /// <summary>"sink:&lt;name&gt;" or "alerts".</summary>
    public string Name { get; set; } = "";
    /// <summary>The last audit event id handled (sent, or evaluated); the next read starts after it.</summary>
    public long LastEventId { get; set; }
    public DateTimeOffset? LastSuccessAt { get; set; }
    /// <summary>The last failure in words (never a secret); cleared by the next success.</summary>
    public string? LastError { get; set; }
    public DateTimeOffset? LastErrorAt { get; set; }
    /// <summary>The instance that holds the lease ("host/pid/random").</summary>
    public string? LeaseHolder { get; set; }
    public DateTimeOffset? LeaseUntil { get; set; }
}
