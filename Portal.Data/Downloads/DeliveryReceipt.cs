namespace Portal.Data.Downloads;

/// <summary>
/// What nginx reports after it sent (or stopped sending) a file for an audited download: whether the person
/// actually got it. Kept apart from the audit event it belongs to, which is never updated.
/// </summary>
public class DeliveryReceipt
{
    public long Id { get; set; }
    /// <summary>The <see cref="Audit.AuditEvent"/> that allowed this transfer.</summary>
    public long AuditEventId { get; set; }
    /// <summary>HTTP status nginx answered (200, 206, 304, 416…).</summary>
    public int Status { get; set; }
    /// <summary>Body bytes sent to the client.</summary>
    public long BytesSent { get; set; }
    /// <summary>True when nginx finished the response; false when the client went away first.</summary>
    public bool Completed { get; set; }
    public int DurationMs { get; set; }
    /// <summary>The Range the client asked for, if any.</summary>
    public string? Range { get; set; }
    public DateTimeOffset ReceivedAt { get; set; }
}
