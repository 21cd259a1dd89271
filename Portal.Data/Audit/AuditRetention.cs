using Microsoft.EntityFrameworkCore;

namespace Portal.Data.Audit;

/// <summary>How long events are kept: Audit:RetentionYears (default 6) plus Audit:RetentionDays (default 0).</summary>
public sealed record AuditRetentionPeriod(int Years = 6, int Days = 0)
{
    public override string ToString() => (Years, Days) switch
    {
        (_, 0) => $"{Years} years",
        (0, _) => $"{Days} days",
        _ => $"{Years} years and {Days} days",
    };
}

/// <summary>What retention did.</summary>
public sealed record AuditRetentionResult(long RemovedCount, AuditCheckpoint? Checkpoint, string Message);

/// <summary>
/// The only removal from the audit log: events older than the retention period, as a prefix of the chain.
///
/// How it gets past the append-only triggers: it does not switch them off. The triggers (migration AuditFilters)
/// refuse every UPDATE, and refuse a DELETE of any event above the highest retention checkpoint. So the command
/// first appends a signed checkpoint (last removed id and its hash) and then deletes up to it, in one transaction.
/// A compliance officer can trust this more than "disable the trigger, delete, enable it": the rule is in force the
/// whole time, no one can remove a stretch in the middle, and a forged checkpoint written straight into the
/// database fails verification because its HMAC key lives in the app's settings, not in the database.
/// Before removing, the stretch is verified: retention refuses to launder a broken chain.
/// </summary>
public static class AuditRetention
{
    public static async Task<AuditRetentionResult> ApplyAsync(
        IDbContextFactory<PortalDbContext> contexts, AuditCheckpointSigner signer, TimeProvider clock, AuditRetentionPeriod period, CancellationToken ct = default)
    {
        if (!signer.IsConfigured)
            throw new InvalidOperationException("Audit:CheckpointKey is not set. Retention leaves a signed checkpoint; set a key of at least 32 random bytes (base64) first.");
        if (period.Years < 0 || period.Days < 0 || period.Years * 366 + period.Days < 1)
            throw new ArgumentOutOfRangeException(nameof(period), "The retention period must be at least one day.");

        await using var db = await contexts.CreateDbContextAsync(ct);
        db.Database.SetCommandTimeout(TimeSpan.FromHours(1));
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await AuditLog.AcquireChainLockAsync(db); // no append links to an event while it is being removed

        var now = clock.GetUtcNow();
        var cutoff = now.AddYears(-period.Years).AddDays(-period.Days);
        var previous = await db.AuditCheckpoints.OrderByDescending(c => c.LastRemovedId).FirstOrDefaultAsync(ct);
        var after = previous?.LastRemovedId ?? 0;
        if (previous is not null && !signer.Verify(previous))
            throw new InvalidOperationException($"Retention checkpoint #{previous.Id} has a wrong signature; run verify-audit. Nothing was removed.");

        // The prefix to remove ends just before the first event young enough to keep (ids follow time).
        var firstKept = await db.AuditEvents.Where(e => e.Id > after && e.OccurredAt >= cutoff).OrderBy(e => e.Id).Select(e => (long?)e.Id).FirstOrDefaultAsync(ct);
        var lastRemoved = firstKept is { } k ? k - 1 : await db.AuditEvents.MaxAsync(e => (long?)e.Id, ct) ?? after;
        if (lastRemoved <= after)
            return new(0, null, $"No audit events older than {cutoff:u}: nothing removed.");

        // Verify the stretch before it goes: once removed, no one could check it any more.
        var verifier = previous is null ? new AuditChain.Verifier() : new AuditChain.Verifier(previous.LastRemovedId, previous.LastRemovedHash);
        await foreach (var e in db.AuditEvents.AsNoTracking().Where(e => e.Id > after && e.Id <= lastRemoved).OrderBy(e => e.Id).AsAsyncEnumerable().WithCancellation(ct))
            if (!verifier.Accept(e))
                throw new InvalidOperationException($"The audit chain is broken at event #{e.Id}; retention removes nothing from a broken chain. Run verify-audit.");
        if (verifier.Verified != lastRemoved - after)
            throw new InvalidOperationException($"Events between #{after + 1} and #{lastRemoved} are missing; retention removes nothing. Run verify-audit.");

        var checkpoint = new AuditCheckpoint
        {
            Id = (await db.AuditCheckpoints.MaxAsync(c => (long?)c.Id, ct) ?? 0) + 1,
            CreatedAt = new DateTimeOffset(now.UtcTicks - now.UtcTicks % 10, TimeSpan.Zero),
            Cutoff = new DateTimeOffset(cutoff.UtcTicks - cutoff.UtcTicks % 10, TimeSpan.Zero),
            LastRemovedId = lastRemoved,
            LastRemovedHash = verifier.LastHash,
            RemovedCount = verifier.Verified,
        };
        checkpoint.Signature = signer.Sign(checkpoint);
        db.AuditCheckpoints.Add(checkpoint);
        await db.SaveChangesAsync(ct);
        await db.DeliveryReceipts.Where(r => r.AuditEventId <= lastRemoved).ExecuteDeleteAsync(ct);
        var removed = await db.AuditEvents.Where(e => e.Id <= lastRemoved).ExecuteDeleteAsync(ct);
        await tx.CommitAsync(ct);
        return new(removed, checkpoint,
            $"Removed {removed} audit events older than {cutoff:u} (#{after + 1} to #{lastRemoved}); signed checkpoint #{checkpoint.Id} keeps the chain verifiable.");
    }
}
