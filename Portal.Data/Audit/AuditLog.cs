using Microsoft.EntityFrameworkCore;

namespace Portal.Data.Audit;

/// <summary>
/// Appends events to the chain. Appends are serialised in this process so each event links to the one
/// before it; the call returns only once the event is committed, so callers can deliver after it.
/// </summary>
public sealed class AuditLog(IDbContextFactory<PortalDbContext> contexts, TimeProvider clock)
{
    private readonly SemaphoreSlim _appendLock = new(1, 1);

    /// <summary>Stamps, links, hashes and commits <paramref name="auditEvent"/>; returns its id.</summary>
    public async Task<long> AppendAsync(AuditEvent auditEvent, CancellationToken ct = default)
    {
        await _appendLock.WaitAsync(ct);
        try
        {
            await using var db = await contexts.CreateDbContextAsync(ct);
            auditEvent.OccurredAt = TruncateToMicroseconds(clock.GetUtcNow());
            auditEvent.PreviousHash = await db.AuditEvents.OrderByDescending(e => e.Id).Select(e => e.Hash)
                .FirstOrDefaultAsync(ct) ?? AuditChain.GenesisHash;
            auditEvent.Hash = AuditChain.ComputeHash(auditEvent);
            db.AuditEvents.Add(auditEvent);
            await db.SaveChangesAsync(ct);
            return auditEvent.Id;
        }
        finally
        {
            _appendLock.Release();
        }
    }

    /// <summary>PostgreSQL keeps microseconds: hash exactly the time that will be read back on every provider.</summary>
    private static DateTimeOffset TruncateToMicroseconds(DateTimeOffset t) =>
        new(t.UtcTicks - t.UtcTicks % 10, TimeSpan.Zero);
}
