namespace Portal.Data.Audit;

/// <summary>
/// Left behind by retention: the last event it removed and that event's hash, signed, so the chain that remains
/// still verifies from here (its first event links to <see cref="LastRemovedHash"/>). Append-only like the events.
/// </summary>
public class AuditCheckpoint
{
    public long Id { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>Events older than this were removed.</summary>
    public DateTimeOffset Cutoff { get; set; }
    /// <summary>Every event with an id up to and including this one was removed (a prefix of the chain, never a gap).</summary>
    public long LastRemovedId { get; set; }
    public string LastRemovedHash { get; set; } = "";
    public long RemovedCount { get; set; }
    /// <summary>HMAC-SHA256 (hex) over the fields above with the key from Audit:CheckpointKey, kept outside the database.</summary>
    public string Signature { get; set; } = "";
}
