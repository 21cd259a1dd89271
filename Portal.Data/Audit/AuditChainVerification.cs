using Microsoft.EntityFrameworkCore;

namespace Portal.Data.Audit;

/// <summary>What a verification found: how many events hold and, if one does not, which and why.</summary>
public sealed record AuditVerificationResult(long Verified, long? FirstBrokenId, string? Problem, AuditCheckpoint? StartedFrom, string LastHash)
{
    public bool Holds => FirstBrokenId is null && Problem is null;

    public string Describe() => Holds
        ? $"Verified {Verified} audit events: the chain holds" + (StartedFrom is { } c
            ? $" (from the signed retention checkpoint after event #{c.LastRemovedId})." : ".")
        : FirstBrokenId is { } id
            ? $"BROKEN at event #{id}: {Problem} {Verified} events before it verify."
            : $"BROKEN: {Problem}";
}

/// <summary>
/// Checks the whole audit log as a stream, in id order: every id consecutive, every link, every hash, starting from
/// the latest signed retention checkpoint if retention has removed the oldest events. Memory stays flat.
/// </summary>
public static class AuditChainVerification
{
    /// <param name="progress">Called every few thousand events with the number verified so far.</param>
    public static async Task<AuditVerificationResult> VerifyAsync(
        IDbContextFactory<PortalDbContext> contexts, AuditCheckpointSigner signer, Action<long>? progress = null, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        db.Database.SetCommandTimeout(TimeSpan.FromHours(1));
        var checkpoints = await db.AuditCheckpoints.AsNoTracking().OrderBy(c => c.LastRemovedId).ToListAsync(ct);
        foreach (var c in checkpoints)
        {
            if (!signer.IsConfigured)
                return new(0, null, $"retention checkpoint #{c.Id} cannot be checked: Audit:CheckpointKey is not set.", c, "");
            if (!signer.Verify(c))
                return new(0, null, $"retention checkpoint #{c.Id} (after event #{c.LastRemovedId}) has a wrong signature: it was not written by this portal.", c, "");
        }
        var start = checkpoints.LastOrDefault();
        var verifier = start is null ? new AuditChain.Verifier() : new AuditChain.Verifier(start.LastRemovedId, start.LastRemovedHash);
        var from = start?.LastRemovedId ?? 0;
        var events = db.AuditEvents.AsNoTracking().Where(e => e.Id > from).OrderBy(e => e.Id).AsAsyncEnumerable();
        await foreach (var e in events.WithCancellation(ct))
        {
            if (!verifier.Accept(e))
                return new(verifier.Verified, e.Id, Why(e, verifier), start, verifier.LastHash);
            if (verifier.Verified % 5000 == 0) progress?.Invoke(verifier.Verified);
        }
        progress?.Invoke(verifier.Verified);
        return new(verifier.Verified, null, null, start, verifier.LastHash);
    }

    private static string Why(AuditEvent e, AuditChain.Verifier verifier)
    {
        if (e.PreviousHash != verifier.LastHash)
            return "its link to the event before does not hold (the event before it was altered, removed, inserted or moved).";
        if (AuditChain.ComputeHash(e) != e.Hash)
            return "its content does not match its hash (it was edited).";
        return "its id is not the next one (an event before it was removed, or one was inserted).";
    }
}
