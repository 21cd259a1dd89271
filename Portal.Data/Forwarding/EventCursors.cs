using Microsoft.EntityFrameworkCore;
using Portal.Data.Audit;

namespace Portal.Data.Forwarding;

/// <summary>
/// The leased cursor over committed audit events. Audit ids are assigned under the chain lock, in commit order, so
/// "every event after id N" read now is every event committed after N: nothing can commit with a smaller id later.
/// </summary>
public static class EventCursors
{
    /// <summary>
    /// Takes or renews the lease on <paramref name="name"/> for <paramref name="holder"/> (creating the cursor at
    /// <paramref name="startAfter"/> the first time); false while another holder's lease runs.
    /// </summary>
    public static async Task<bool> TryLeaseAsync(PortalDbContext db, string name, string holder, DateTimeOffset now, TimeSpan duration,
        long startAfter = 0, CancellationToken ct = default)
    {
        if (!await db.EventCursors.AnyAsync(c => c.Name == name, ct))
        {
            db.EventCursors.Add(new EventCursor { Name = name, LastEventId = startAfter });
            try { await db.SaveChangesAsync(ct); }
            catch (DbUpdateException) { /* another instance created it first */ }
            db.ChangeTracker.Clear();
        }
        var until = now + duration;
        var taken = await db.EventCursors
            .Where(c => c.Name == name && (c.LeaseHolder == holder || c.LeaseHolder == null || c.LeaseUntil == null || c.LeaseUntil < now))
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.LeaseHolder, holder).SetProperty(c => c.LeaseUntil, until), ct);
        return taken == 1;
    }

    /// <summary>Lets the lease go at once (a clean stop), so another instance need not wait for it to run out.</summary>
    public static Task ReleaseAsync(PortalDbContext db, string name, string holder, CancellationToken ct = default) =>
        db.EventCursors.Where(c => c.Name == name && c.LeaseHolder == holder)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.LeaseHolder, (string?)null).SetProperty(c => c.LeaseUntil, (DateTimeOffset?)null), ct);

    public static Task<EventCursor?> FindAsync(PortalDbContext db, string name, CancellationToken ct = default) =>
        db.EventCursors.AsNoTracking().FirstOrDefaultAsync(c => c.Name == name, ct);

    /// <summary>Up to <paramref name="take"/> committed events after <paramref name="afterId"/>, in id order.</summary>
    public static Task<List<AuditEvent>> EventsAfterAsync(PortalDbContext db, long afterId, int take, CancellationToken ct = default) =>
        db.AuditEvents.AsNoTracking().Where(e => e.Id > afterId).OrderBy(e => e.Id).Take(take).ToListAsync(ct);

    /// <summary>Moves the cursor forward to <paramref name="lastEventId"/> if <paramref name="holder"/> still holds the lease; false if it lost it.</summary>
    public static async Task<bool> AdvanceAsync(PortalDbContext db, string name, string holder, long lastEventId, DateTimeOffset now, CancellationToken ct = default) =>
        await db.EventCursors.Where(c => c.Name == name && c.LeaseHolder == holder && c.LastEventId <= lastEventId)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.LastEventId, lastEventId).SetProperty(c => c.LastSuccessAt, now)
                .SetProperty(c => c.LastError, (string?)null), ct) == 1;

    /// <summary>Records a failure (the cursor stays where it is).</summary>
    public static Task RecordErrorAsync(PortalDbContext db, string name, string error, DateTimeOffset now, CancellationToken ct = default) =>
        db.EventCursors.Where(c => c.Name == name)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.LastError, error.Length <= 1000 ? error : error[..1000]).SetProperty(c => c.LastErrorAt, now), ct);

    /// <summary>The newest committed event id (0 for an empty log).</summary>
    public static async Task<long> LastCommittedIdAsync(PortalDbContext db, CancellationToken ct = default) =>
        await db.AuditEvents.MaxAsync(e => (long?)e.Id, ct) ?? 0;
}
