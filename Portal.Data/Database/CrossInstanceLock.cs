using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Portal.Data.Database;

/// <summary>
/// A check-then-write that must not interleave with the same check-then-write elsewhere ("is this name free?", "is
/// there an entry already?"): one at a time in this app instance (a semaphore) and, on PostgreSQL and SQL Server,
/// across instances (a lock held by a transaction on the caller's context until commit or rollback, also released if
/// the process dies). On SQLite only the semaphore: one app serves a database file, and holding a write transaction
/// there would block the audit writer.
/// </summary>
/// <remarks>One per app instance (a singleton), so two instances in one test process still meet only in the database.</remarks>
public abstract class CrossInstanceLock(string name, long postgresKey)
{
    private readonly SemaphoreSlim _inThisInstance = new(1, 1);

    /// <summary>
    /// Runs <paramref name="work"/> holding the lock, with <paramref name="db"/> in the lock's transaction on PostgreSQL
    /// and SQL Server (committed after the work, so what it saved is committed before the lock is let go).
    /// </summary>
    public async Task<T> RunAsync<T>(PortalDbContext db, Func<Task<T>> work, CancellationToken ct)
    {
        await _inThisInstance.WaitAsync(ct);
        try
        {
            await using var acrossInstances = await BeginAsync(db, ct);
            var result = await work();
            if (acrossInstances is not null) await acrossInstances.CommitAsync(ct);
            return result;
        }
        finally
        {
            _inThisInstance.Release();
        }
    }

    private async Task<IDbContextTransaction?> BeginAsync(PortalDbContext db, CancellationToken ct)
    {
        var sql = db.Database.ProviderName switch
        {
            "Npgsql.EntityFrameworkCore.PostgreSQL" => $"SELECT pg_advisory_xact_lock({postgresKey})",
            "Microsoft.EntityFrameworkCore.SqlServer" =>
                $"DECLARE @r int; EXEC @r = sp_getapplock @Resource = N'{name}', @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = 30000; IF @r < 0 THROW 50003, 'The lock {name} was not granted', 1;",
            _ => null,
        };
        if (sql is null) return null;
        // Inside a change's own transaction (AuditLog.CommitWithChangeAsync) the lock joins it and is let go at its commit.
        if (db.Database.CurrentTransaction is not null)
        {
            await db.Database.ExecuteSqlRawAsync(sql, ct);
            return null;
        }
        var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Database.ExecuteSqlRawAsync(sql, ct);
        return tx;
    }
}

/// <summary>Permission entries: one per folder and principal.</summary>
public sealed class PermissionGrantLock() : CrossInstanceLock("portal-permission-grants", 5787360215402349700);

/// <summary>Folder names: one live folder of a name under one parent.</summary>
public sealed class FolderNameLock() : CrossInstanceLock("portal-folder-names", 5787360215402349701)
{
    /// <summary>
    /// Runs <paramref name="write"/> (which saves) holding the lock, if no live folder other than
    /// <paramref name="except"/> has <paramref name="name"/> under <paramref name="parentId"/>; false when one has.
    /// </summary>
    public Task<bool> WriteIfFreeAsync(PortalDbContext db, Guid? parentId, string name, Guid? except, Func<Task> write, CancellationToken ct) =>
        RunAsync(db, async () =>
        {
            if (await db.Folders.AnyAsync(f => f.ParentId == parentId && f.Name == name && !f.IsDeleted && f.Id != except, ct)) return false;
            await write();
            return true;
        }, ct);
}

/// <summary>
/// Document names and version numbers: one live document of a name in a folder (an upload under a taken name becomes
/// that document's next version), and one next version number per document.
/// </summary>
public sealed class DocumentNameLock() : CrossInstanceLock("portal-document-names", 5787360215402349703)
{
    /// <summary>Whether a live document other than <paramref name="except"/> has <paramref name="name"/> in the folder; call holding the lock.</summary>
    public static Task<bool> IsTakenAsync(PortalDbContext db, Guid folderId, string name, Guid? except, CancellationToken ct) =>
        db.Documents.AnyAsync(d => d.FolderId == folderId && d.DisplayName == name && !d.IsDeleted && d.Id != except, ct);
}

/// <summary>Session expiry: one sweep at a time, so an expired session is recorded once, not once per instance.</summary>
public sealed class SessionExpiryLock() : CrossInstanceLock("portal-session-expiry", 5787360215402349702);
