using Microsoft.EntityFrameworkCore;

namespace Portal.Data.Audit;

/// <summary>What a verification found: how many events hold and, if one does not, which and why.</summary>
public sealed record AuditVerificationResult(long Verified, long? FirstBrokenId, string? Problem, AuditCheckpoint? StartedFrom, string LastHash)
{
    /// <summary>What the signed heads showed: truncation, deletion or rewriting that the chain alone cannot show.</summary>
    public IReadOnlyList<string> AnchorProblems { get; init; } = [];
    /// <summary>The newest signed head the log was checked against (null when none was checked).</summary>
    public AuditSignedHead? NewestHead { get; init; }
    /// <summary>Events after <see cref="NewestHead"/>: not yet covered by a signature.</summary>
    public long Unanchored { get; init; }
    /// <summary>The check against signed heads was asked for (a public key was given).</summary>
    public bool AnchorChecked { get; init; }

    public bool Holds => FirstBrokenId is null && Problem is null && AnchorProblems.Count == 0;

    public string Describe()
    {
        var lines = new List<string>();
        if (FirstBrokenId is null && Problem is null)
            lines.Add($"Verified {Verified} audit events: the chain holds" + (StartedFrom is { } c
                ? $" (from the signed retention checkpoint after event #{c.LastRemovedId})." : "."));
        else lines.Add(FirstBrokenId is { } id
            ? $"BROKEN at event #{id}: {Problem} {Verified} events before it verify."
            : $"BROKEN: {Problem}");
        lines.AddRange(AnchorProblems);
        if (AnchorChecked && NewestHead is { } h && AnchorProblems.Count == 0)
            lines.Add($"It matches the newest signed head: event #{h.EventId}, signed {h.SignedAt.UtcDateTime:u} with key {h.KeyId}" +
                      (Unanchored > 0 ? $"; the {Unanchored} events after it are not signed yet." : "."));
        return string.Join(Environment.NewLine, lines);
    }
}

/// <summary>
/// Checks the whole audit log as a stream, in id order: every id consecutive, every link, every hash, starting from
/// the latest signed retention checkpoint if retention has removed the oldest events. Memory stays flat.
/// With the public key of the app's head signer it also checks the log against the signed heads (in the database and
/// from the anchor outside it): whoever owns the database can delete the newest events or rewrite events and recompute
/// every hash so the chain holds again, but cannot sign the result. Heads are merge-joined with the events in id
/// order; a signature is checked only where a head is used as evidence (a mismatch, or the newest), so a long log
/// with one head a second costs one pass, not millions of signature checks.
/// </summary>
public static class AuditChainVerification
{
    /// <param name="progress">Called every few thousand events with the number verified so far.</param>
    /// <param name="headKey">The public key of the head signer; null checks the chain alone.</param>
    /// <param name="anchoredHeads">Heads read from an anchor outside the database (the anchor file).</param>
    public static async Task<AuditVerificationResult> VerifyAsync(
        IDbContextFactory<PortalDbContext> contexts, AuditCheckpointSigner signer, Action<long>? progress = null, CancellationToken ct = default,
        AuditHeadSigner? headKey = null, IReadOnlyCollection<AuditSignedHead>? anchoredHeads = null)
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

        var heads = headKey is null ? null : new HeadCheck(headKey);
        await using var headDb = headKey is null ? null : await contexts.CreateDbContextAsync(ct);
        await using var dbHeads = headDb?.AuditSignedHeads.AsNoTracking().Where(h => h.EventId > from).OrderBy(h => h.EventId).ThenBy(h => h.Id)
            .AsAsyncEnumerable().GetAsyncEnumerator(ct);
        if (dbHeads is not null) await heads!.StartAsync(dbHeads);

        long? firstBroken = null;
        string? problem = null;
        long lastId = from, verified = 0;
        string lastHash = verifier.LastHash;
        var events = db.AuditEvents.AsNoTracking().Where(e => e.Id > from).OrderBy(e => e.Id).AsAsyncEnumerable();
        await foreach (var e in events.WithCancellation(ct))
        {
            if (firstBroken is null)
            {
                if (!verifier.Accept(e))
                {
                    firstBroken = e.Id;
                    problem = Why(e, verifier);
                    verified = verifier.Verified;
                    lastHash = verifier.LastHash;
                    if (heads is null) break; // the chain alone: nothing more to learn
                }
                else if (verifier.Verified % 5000 == 0) progress?.Invoke(verifier.Verified);
            }
            lastId = e.Id;
            if (heads is not null) await heads.SeeAsync(e.Id, e.Hash);
        }
        if (firstBroken is null) { verified = verifier.Verified; lastHash = verifier.LastHash; progress?.Invoke(verified); }
        if (heads is null) return new(verified, firstBroken, problem, start, lastHash);

        await heads.EndAsync(lastId, anchoredHeads ?? [],
            id => db.AuditEvents.Where(e => e.Id == id).Select(e => e.Hash).FirstOrDefaultAsync(ct));
        return new(verified, firstBroken, problem, start, lastHash)
        {
            AnchorChecked = true, AnchorProblems = heads.Problems, NewestHead = heads.Newest,
            Unanchored = heads.Newest is { } n && n.EventId < lastId ? lastId - n.EventId : 0,
        };
    }

    private static string Why(AuditEvent e, AuditChain.Verifier verifier)
    {
        if (e.PreviousHash != verifier.LastHash)
            return "its link to the event before does not hold (the event before it was altered, removed, inserted or moved).";
        if (AuditChain.ComputeHash(e) != e.Hash)
            return "its content does not match its hash (it was edited).";
        return "its id is not the next one (an event before it was removed, or one was inserted).";
    }

    /// <summary>The signed heads beside the events, in id order.</summary>
    private sealed class HeadCheck(AuditHeadSigner key)
    {
        private IAsyncEnumerator<AuditSignedHead>? _heads;
        private AuditSignedHead? _next;
        private long _lastMatchedId;
        private bool _mismatchNamed;
        private int _forged;
        public List<string> Problems { get; } = [];
        public AuditSignedHead? Newest { get; private set; }

        public async Task StartAsync(IAsyncEnumerator<AuditSignedHead> heads)
        {
            _heads = heads;
            await AdvanceAsync();
        }

        private async Task AdvanceAsync() => _next = await _heads!.MoveNextAsync() ? _heads.Current : null;

        /// <summary>Event <paramref name="id"/> with <paramref name="hash"/> is in the log (ids ascending).</summary>
        public async Task SeeAsync(long id, string hash)
        {
            while (_next is { } h && h.EventId <= id)
            {
                if (h.EventId == id && h.EventHash == hash)
                {
                    _lastMatchedId = id;
                    Newest = h; // a match needs no signature check: it agrees with the log
                }
                else if (!_mismatchNamed && Genuine(h))
                {
                    _mismatchNamed = true;
                    Problems.Add(h.EventId == id
                        ? $"REWRITTEN: event #{h.EventId} is not the event the portal signed on {h.SignedAt.UtcDateTime:u} (its hash differs). " +
                          $"Events after #{_lastMatchedId} up to #{h.EventId} were edited, deleted or inserted, and every hash after them recomputed."
                        : $"DELETED: event #{h.EventId}, signed on {h.SignedAt.UtcDateTime:u}, is missing from the log.");
                }
                await AdvanceAsync();
            }
        }

        /// <summary>The log ended at <paramref name="lastId"/>: heads beyond it show truncation.</summary>
        public async Task EndAsync(long lastId, IReadOnlyCollection<AuditSignedHead> anchored, Func<long, Task<string?>> hashAt)
        {
            // Heads beyond the end of the log, newest first among those that are genuine.
            var beyond = new List<AuditSignedHead>();
            while (_next is { } h) { if (h.EventId > lastId) beyond.Add(h); await AdvanceAsync(); }
            beyond.AddRange(anchored.Where(a => a.EventId > lastId));
            var newestBeyond = beyond.OrderByDescending(h => h.EventId).FirstOrDefault(Genuine);
            if (newestBeyond is not null)
            {
                Newest = newestBeyond;
                Problems.Add(_mismatchNamed
                    ? $"TRUNCATED as well: the portal signed event #{newestBeyond.EventId} on {newestBeyond.SignedAt.UtcDateTime:u}, but the log ends at #{lastId}."
                    : $"TRUNCATED: the portal signed event #{newestBeyond.EventId} on {newestBeyond.SignedAt.UtcDateTime:u}, but the log ends at #{lastId}: " +
                      $"the newest events #{lastId + 1} to #{newestBeyond.EventId} were deleted (or others deleted and the rest renumbered).");
            }

            // The anchor's newest heads within the log must match it too (the database's heads may have been emptied).
            if (!_mismatchNamed)
                foreach (var a in anchored.Where(a => a.EventId <= lastId).OrderByDescending(a => a.EventId))
                {
                    var hash = await hashAt(a.EventId);
                    if (hash == a.EventHash)
                    {
                        if (Newest is null || a.EventId > Newest.EventId) Newest = a;
                        break;
                    }
                    if (!Genuine(a)) continue;
                    Problems.Add(hash is null
                        ? $"DELETED: event #{a.EventId}, signed on {a.SignedAt.UtcDateTime:u} (anchor file), is missing from the log."
                        : $"REWRITTEN: event #{a.EventId} is not the event the portal signed on {a.SignedAt.UtcDateTime:u} (anchor file): " +
                          "events up to it were edited, deleted or inserted, and every hash after them recomputed.");
                    break;
                }
            if (_forged > 0)
                Problems.Add($"FORGED: {_forged} signed head(s) do not carry a valid signature of key {key.KeyId}: someone wrote them without the portal's key.");
            if (Newest is null && lastId > 0 && Problems.Count == 0)
                Problems.Add("UNANCHORED: no signed head was found in the database or the anchor file: the log cannot be checked against whoever owns the database (were the heads deleted?).");
        }

        private bool Genuine(AuditSignedHead h)
        {
            if (key.Verify(h)) return true;
            _forged++;
            return false;
        }
    }
}
