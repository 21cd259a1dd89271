namespace Portal.App.Downloads;

/// <summary>
/// Counts each user's downloads in flight, to refuse beyond "Delivery:MaxConcurrentPerUser". A slot is freed by
/// the delivery receipt (XAccel), by the end of the response (Direct), or when it expires (a receipt that never
/// came must not lock a person out). In-process: with several app instances each counts its own.
/// </summary>
public sealed class DownloadSlots(TimeProvider clock)
{
    private readonly Dictionary<Guid, List<Slot>> _byUser = [];
    private readonly Lock _lock = new();

    public sealed class Slot
    {
        internal Slot(Guid userId, DateTimeOffset expiresAt) { UserId = userId; ExpiresAt = expiresAt; }
        public Guid UserId { get; }
        public DateTimeOffset ExpiresAt { get; internal set; }
        public long? AuditEventId { get; set; }
    }

    /// <summary>A slot, or null with the time until one frees up (for Retry-After).</summary>
    public (Slot? Slot, TimeSpan RetryAfter) TryAcquire(Guid userId, int maxConcurrent, TimeSpan expectedDuration)
    {
        var now = clock.GetUtcNow();
        // No limit configured: nothing to count, so nothing is kept (a detached slot is never looked at again).
        if (maxConcurrent <= 0) return (new Slot(userId, now + expectedDuration), TimeSpan.Zero);
        lock (_lock)
        {
            if (!_byUser.TryGetValue(userId, out var slots)) _byUser[userId] = slots = [];
            slots.RemoveAll(s => s.ExpiresAt <= now);
            if (maxConcurrent > 0 && slots.Count >= maxConcurrent)
                return (null, slots.Min(s => s.ExpiresAt) - now);
            var slot = new Slot(userId, now + expectedDuration);
            slots.Add(slot);
            return (slot, TimeSpan.Zero);
        }
    }

    public void Release(Slot slot)
    {
        lock (_lock)
        {
            if (_byUser.TryGetValue(slot.UserId, out var slots) && slots.Remove(slot) && slots.Count == 0) _byUser.Remove(slot.UserId);
        }
    }

    public void ReleaseByAuditEvent(long auditEventId)
    {
        lock (_lock)
        {
            foreach (var slots in _byUser.Values)
            {
                var slot = slots.Find(s => s.AuditEventId == auditEventId);
                if (slot is null) continue;
                Release(slot);
                return;
            }
        }
    }

    public int InFlight(Guid userId)
    {
        var now = clock.GetUtcNow();
        lock (_lock) return _byUser.TryGetValue(userId, out var slots) ? slots.Count(s => s.ExpiresAt > now) : 0;
    }
}
