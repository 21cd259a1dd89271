namespace Portal.Data.Database;

/// <summary>
/// Takes turns between the app's writers on SQLite, which has one writer per database file: the audit log and the
/// delivery receipts, and every other write (sign-ins and sessions, uploads, document, folder, bin, permission and user
/// changes). Left to meet on the file lock, the loser was put to sleep by Microsoft.Data.Sqlite for 150 ms before
/// retrying, and downloads waited that long for their audit rows (p99 about 200 ms during a sign-in or upload storm
/// against 20 ms in turn; docs/benchmarks.md). On a server database it lets all through.
/// </summary>
public sealed class DatabaseWriteGate
{
    private readonly SemaphoreSlim? _turn;

    public DatabaseWriteGate(DatabaseProvider provider) => _turn = provider == DatabaseProvider.Sqlite ? new SemaphoreSlim(1, 1) : null;

    /// <summary>Waits for this writer's turn; dispose the result to pass it on. Never hold it while waiting on another writer.</summary>
    public async ValueTask<Turn> EnterAsync(CancellationToken ct = default)
    {
        if (_turn is null) return default;
        await _turn.WaitAsync(ct);
        return new Turn(_turn);
    }

    public readonly struct Turn(SemaphoreSlim? turn) : IDisposable
    {
        public void Dispose() => turn?.Release();
    }
}

public static class DatabaseWriteGateExtensions
{
    /// <summary>A writer's turn, for writers built without a gate (tests, tools) too: then there is none to wait for.</summary>
    public static ValueTask<DatabaseWriteGate.Turn> TurnAsync(this DatabaseWriteGate? gate, CancellationToken ct = default) =>
        gate?.EnterAsync(ct) ?? ValueTask.FromResult(default(DatabaseWriteGate.Turn));

    /// <summary>Saves <paramref name="db"/>'s changes in this writer's turn (most writers' one write).</summary>
    public static async Task<int> SaveChangesInTurnAsync(this DatabaseWriteGate? gate, Microsoft.EntityFrameworkCore.DbContext db, CancellationToken ct = default)
    {
        using (await gate.TurnAsync(ct))
            return await db.SaveChangesAsync(ct);
    }
}
