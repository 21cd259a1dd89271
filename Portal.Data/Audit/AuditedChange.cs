using Microsoft.EntityFrameworkCore;
using Portal.Data.Database;

namespace Portal.Data.Audit;

/// <summary>
/// The events of one change, collected while the change runs in <see cref="AuditLog.CommitWithChangeAsync{T}"/> and
/// committed in its transaction. A change that records nothing is rolled back: it did not happen.
/// </summary>
public sealed class AuditedChange
{
    private readonly List<AuditEvent> _events = [];

    internal AuditedChange(PortalDbContext db) => Db = db;

    /// <summary>The context the change writes through; its transaction is the change's.</summary>
    public PortalDbContext Db { get; }

    internal IReadOnlyList<AuditEvent> Events => _events;

    /// <summary>Records <paramref name="auditEvent"/> with this change (appended to the chain when the change commits).</summary>
    public void Record(AuditEvent auditEvent) => _events.Add(auditEvent);

    internal bool ChainLocked { get; private set; }

    /// <summary>
    /// Takes the chain lock now rather than just before the insert: only for a change decided on the audit log itself
    /// (settings compared with the last recorded ones), which no other writer may append to in between.
    /// </summary>
    public async Task LockChainAsync(CancellationToken ct = default)
    {
        if (ChainLocked) return;
        await AuditLog.AcquireChainLockAsync(Db, ct);
        ChainLocked = true;
    }
}

public sealed partial class AuditLog
{
    /// <summary>
    /// Runs <paramref name="change"/> and commits it together with the events it recorded, in one transaction: a
    /// client that hangs up, a crash or a failed write at any moment leaves both or neither. The one way a state
    /// change is recorded (refusals, which change nothing, use <see cref="AppendAsync(AuditEvent, CancellationToken)"/>).
    /// <list type="bullet">
    /// <item>The change reads what its events need (names, paths) and saves through <see cref="AuditedChange.Db"/>;
    /// whatever it leaves unsaved is saved here. It may also write with ExecuteUpdate/ExecuteDelete: all of it is in
    /// this transaction.</item>
    /// <item>It records its events with <see cref="AuditedChange.Record"/>. Recording none means nothing changed (a
    /// conflict, a refusal): everything is rolled back, and a change tracked but unsaved is an error.</item>
    /// <item>The chain lock is taken last, just before the events are inserted, so appends (downloads) wait only for
    /// the insert and the commit. On SQLite the write turn is held for the whole transaction, as every writer holds it.</item>
    /// </list>
    /// </summary>
    /// <example><code>
    /// return await audit.CommitWithChangeAsync(db, async change =>
    /// {
    ///     folder.Name = name;                                   // the change (saved by the seam, or by you)
    ///     change.Record(caller.Audit(AuditAction.FolderRenamed, AuditOutcome.Allowed) with names and paths);
    ///     return OperationResult.Done(folder.Id);
    /// }, ct);
    /// </code></example>
    public async Task<T> CommitWithChangeAsync<T>(PortalDbContext db, Func<AuditedChange, Task<T>> change, CancellationToken ct = default)
    {
        if (db.Database.CurrentTransaction is not null)
            throw new InvalidOperationException("A change and its events own their transaction; begin none around them.");
        using var turn = await _writeGate.TurnAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var audited = new AuditedChange(db);
        var result = await change(audited);
        if (audited.Events.Count == 0)
        {
            if (db.ChangeTracker.HasChanges())
                throw new InvalidOperationException("A change was made without an audit event; record one with it.");
            await tx.RollbackAsync(CancellationToken.None);
            return result;
        }
        await db.SaveChangesAsync(ct);
        if (!audited.ChainLocked) await AcquireChainLockAsync(db, ct);
        await AppendInTransactionAsync(db, audited.Events, ct);
        // Past this point the request's cancellation no longer matters: the commit is one step, both or neither.
        var started = _clock.GetTimestamp();
        await tx.CommitAsync(CancellationToken.None);
        // Those who follow the chain (head signing, forwarding, metrics) hear of these events as of the writer's.
        BatchCommitted?.Invoke(audited.Events.Count, _clock.GetElapsedTime(started));
        return result;
    }
}
