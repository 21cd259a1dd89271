using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Portal.Data.Database;
using Portal.Data.Permissions;

namespace Portal.Data.Audit;

/// <summary>How the audit writer batches. Audit:MaxBatch=1 is one transaction per event (only to measure group commit).</summary>
public sealed class AuditLogOptions
{
    public int MaxBatch { get; set; } = 500;
}

/// <summary>The audit log could not be written; whatever the event was recording must not happen (fail closed).</summary>
public sealed class AuditWriteException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// Appends events to the chain with group commit: concurrent appends are batched into one transaction by a
/// single writer, and each call returns only once its batch is committed, so callers deliver after it.
/// Ids are assigned here, consecutively, so chain order is id order on every provider.
/// </summary>
public sealed partial class AuditLog : IAsyncDisposable
{
    private readonly int _maxBatch;
    private readonly IDbContextFactory<PortalDbContext> _contexts;
    private readonly TimeProvider _clock;
    private readonly ILogger<AuditLog> _log;
    private readonly Channel<PendingEvent> _queue = Channel.CreateUnbounded<PendingEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;

    private readonly DatabaseWriteGate? _writeGate;
    private readonly AccessVersionWatch _accessVersions;

    public AuditLog(IDbContextFactory<PortalDbContext> contexts, TimeProvider clock, ILogger<AuditLog> log,
        AuditLogOptions? options = null, DatabaseWriteGate? writeGate = null, AccessVersionWatch? accessVersions = null)
    {
        _maxBatch = Math.Clamp((options ?? new AuditLogOptions()).MaxBatch, 1, 5000);
        _writeGate = writeGate;
        _accessVersions = accessVersions ?? new AccessVersionWatch();
        _contexts = contexts;
        _clock = clock;
        _log = log;
        _writer = Task.Run(WriteBatchesAsync);
    }

    /// <summary>
    /// Events committed to the chain: by the writer's batches and by changes committed with their events. Sizes and
    /// commit times, for metrics and the benchmark; head signing and forwarding wake on it.
    /// </summary>
    public event Action<int, TimeSpan>? BatchCommitted;

    /// <summary>A class, not a record: found by reference among a batch's stale decisions.</summary>
    private sealed class PendingEvent(AuditEvent auditEvent, long? decidedAtAccessVersion, TaskCompletionSource<long> committed)
    {
        public AuditEvent Event => auditEvent;
        public long? DecidedAtAccessVersion => decidedAtAccessVersion;
        public TaskCompletionSource<long> Committed => committed;
    }

    /// <summary>Stamps, links, hashes and commits <paramref name="auditEvent"/>; returns its id.</summary>
    /// <exception cref="AuditWriteException">The database did not take the event.</exception>
    public Task<long> AppendAsync(AuditEvent auditEvent, CancellationToken ct = default) => AppendAsync(auditEvent, null, ct);

    /// <summary>
    /// As <see cref="AppendAsync(AuditEvent, CancellationToken)"/>, for a decision taken on facts read at access version
    /// <paramref name="decidedAtAccessVersion"/>: the event is committed only if that is still the version in the
    /// batch's transaction.
    /// </summary>
    /// <exception cref="AccessChangedException">The version moved on: nothing was written.</exception>
    public async Task<long> AppendAsync(AuditEvent auditEvent, long? decidedAtAccessVersion, CancellationToken ct = default)
    {
        var pending = new PendingEvent(auditEvent, decidedAtAccessVersion,
            new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending)) throw new AuditWriteException("The audit log is shutting down.", new ObjectDisposedException(nameof(AuditLog)));
        // Once queued the event is written even if this caller gives up: the attempt itself is worth recording.
        return await pending.Committed.Task.WaitAsync(ct);
    }

    private async Task WriteBatchesAsync()
    {
        var batch = new List<PendingEvent>(_maxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var next)) batch.Add(next);
            var started = _clock.GetTimestamp();
            try
            {
                var stale = await CommitAsync(batch);
                foreach (var p in batch)
                    if (stale.Contains(p)) p.Committed.TrySetException(new AccessChangedException());
                    else p.Committed.TrySetResult(p.Event.Id);
                BatchCommitted?.Invoke(batch.Count - stale.Count, _clock.GetElapsedTime(started));
            }
            catch (Exception e)
            {
                _log.LogError(e, "Audit batch of {Count} events could not be committed", batch.Count);
                var failure = new AuditWriteException("The audit log could not be written.", e);
                foreach (var p in batch) p.Committed.TrySetException(failure);
            }
        }
    }

    /// <summary>
    /// Where the chain ends: the id and hash the next event links to, and the time it must not go back before; with the
    /// access version in the same statement (no round trip of its own, in either writer).
    /// </summary>
    private sealed record ChainEnd(long Id, string Hash, DateTimeOffset? At, long? AccessVersion);

    // Compiled once per log (a compiled query belongs to one provider's model): run for every batch, it was a tenth
    // of the writer's time as a LINQ query built anew each time.
    private readonly Func<PortalDbContext, Task<ChainEnd?>> _lastEvent = EF.CompileAsyncQuery((PortalDbContext db) =>
        db.AuditEvents.OrderByDescending(e => e.Id)
            .Select(e => new ChainEnd(e.Id, e.Hash, e.OccurredAt, db.AccessVersions.Where(a => a.Id == AccessVersion.RowId).Select(a => (long?)a.Version).First()))
            .FirstOrDefault());

    private static readonly IReadOnlySet<PendingEvent> NoneStale = new HashSet<PendingEvent>();

    /// <summary>Commits the batch's events but those decided at an access version that is no longer current; returns those (stale).</summary>
    private async Task<IReadOnlySet<PendingEvent>> CommitAsync(List<PendingEvent> batch)
    {
        using var turn = await _writeGate.TurnAsync();
        await using var db = await _contexts.CreateDbContextAsync();
        await using var tx = await db.Database.BeginTransactionAsync();
        // Several app instances may append at once: one at a time across processes, so each batch links to the
        // true last event. SQLite needs nothing more (one writer per database file; WAL serialises writers).
        await AcquireChainLockAsync(db);
        var last = await ReadChainEndAsync(db, CancellationToken.None);
        // Read in this transaction, just before it commits: a change committed before now invalidates the decisions taken
        // on older facts; one committed after comes after these accesses, as it would after any other.
        var accessVersion = last?.AccessVersion ?? await AccessVersion.CurrentAsync(db);
        _accessVersions.Saw(accessVersion);
        bool IsStale(PendingEvent p) => p.DecidedAtAccessVersion is { } v && v != accessVersion;
        // Nearly every batch has none: no set and no second list for it.
        IReadOnlySet<PendingEvent> stale = batch.Exists(IsStale) ? batch.Where(IsStale).ToHashSet() : NoneStale;
        var current = stale.Count == 0 ? batch : batch.FindAll(p => !stale.Contains(p));
        if (current.Count == 0) return stale;
        Stamp(current.ConvertAll(p => p.Event), last);
        await RowInsert<AuditEvent>.For(db).InsertAsync(db, current.ConvertAll(p => p.Event));
        await tx.CommitAsync();
        return stale;
    }

    /// <summary>Where the chain ends now; call holding the chain lock, in the transaction that will append.</summary>
    private async Task<ChainEnd?> ReadChainEndAsync(PortalDbContext db, CancellationToken ct) =>
        await _lastEvent(db)
        // Retention may have removed every event: the chain goes on from its signed checkpoint, never from 1 again.
        ?? await db.AuditCheckpoints.OrderByDescending(c => c.LastRemovedId).Select(c => new ChainEnd(c.LastRemovedId, c.LastRemovedHash, null, null)).FirstOrDefaultAsync(ct);

    /// <summary>
    /// Links <paramref name="events"/> to the chain after <paramref name="last"/>, in order: consecutive ids, one time
    /// (never before the chain's last), previous hash and hash. The one place events are stamped, for the group-commit
    /// writer and for <see cref="AuditedChange"/> alike, so the two cannot drift.
    /// </summary>
    private void Stamp(IReadOnlyList<AuditEvent> events, ChainEnd? last)
    {
        var id = last?.Id ?? 0;
        var previous = last?.Hash ?? AuditChain.GenesisHash;
        // Time never goes backwards along the chain, even when instances' clocks differ a little: so a time range is
        // an id range (the compliance view pages a time range by id) and retention removes a true prefix.
        var now = TruncateToMicroseconds(_clock.GetUtcNow());
        if (last?.At is { } lastAt && lastAt > now) now = lastAt;
        foreach (var e in events)
        {
            e.Id = ++id;
            e.OccurredAt = now;
            e.PreviousHash = previous;
            e.Hash = AuditChain.ComputeHash(e);
            previous = e.Hash;
        }
    }

    /// <summary>
    /// Appends <paramref name="events"/> in <paramref name="db"/>'s current transaction, which the caller commits (with
    /// the change they record; on SQLite the caller holds the write turn): reads the chain's end, stamps and inserts. Only <see cref="CommitWithChangeAsync{T}"/> calls this, holding the
    /// chain lock (<see cref="AcquireChainLockAsync"/>).
    /// </summary>
    internal async Task AppendInTransactionAsync(PortalDbContext db, IReadOnlyList<AuditEvent> events, CancellationToken ct)
    {
        if (db.Database.CurrentTransaction is null) throw new InvalidOperationException("Events are appended inside the change's transaction.");
        var last = await ReadChainEndAsync(db, ct);
        if (last?.AccessVersion is { } version) _accessVersions.Saw(version);
        Stamp(events, last);
        await RowInsert<AuditEvent>.For(db).InsertAsync(db, events, ct);
    }

    /// <summary>A transaction-scoped lock, released by commit or rollback (also if the process dies).</summary>
    internal static Task AcquireChainLockAsync(PortalDbContext db, CancellationToken ct = default) => db.Database.ProviderName switch
    {
        "Npgsql.EntityFrameworkCore.PostgreSQL" => db.Database.ExecuteSqlRawAsync(PostgresChainLock, ct),
        "Microsoft.EntityFrameworkCore.SqlServer" => db.Database.ExecuteSqlRawAsync(
            "DECLARE @r int; EXEC @r = sp_getapplock @Resource = N'portal-audit-chain', @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = 30000; IF @r < 0 THROW 50002, 'The audit chain lock was not granted', 1;", ct),
        _ => Task.CompletedTask,
    };

    /// <summary>The advisory lock for the audit chain; its id is an arbitrary constant ("PRTLAUDT").</summary>
    private const string PostgresChainLock = "SELECT pg_advisory_xact_lock(5787360215402349652)";

    /// <summary>PostgreSQL keeps microseconds: hash exactly the time that will be read back on every provider.</summary>
    private static DateTimeOffset TruncateToMicroseconds(DateTimeOffset t) => new(t.UtcTicks - t.UtcTicks % 10, TimeSpan.Zero);

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer;
    }
}
