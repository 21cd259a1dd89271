using Microsoft.EntityFrameworkCore;
using Portal.Data.Database;

namespace Portal.Data.Permissions;

/// <summary>
/// One row whose <see cref="Version"/> the database raises, by trigger, in every transaction that changes what decides
/// a download: documents, folders, permission entries, group memberships. A download decided from facts read at one
/// version is recorded only if the version is still that when its audit row commits (<see cref="Audit.AuditLog"/>), so
/// facts kept in memory can never outlive a change, made by this instance, another one, or by hand in the database.
/// </summary>
public class AccessVersion
{
    /// <summary>The row's id: there is only this one.</summary>
    public const int RowId = 1;

    /// <summary>The trigger that raises the version on <paramref name="table"/>. Declared in the model too: EF's SQL
    /// Server provider must not write an OUTPUT clause for a table with triggers.</summary>
    public static string TriggerOn(string table) => table + "_AccessChanged";

    public int Id { get; set; }
    public long Version { get; set; }

    private static readonly CompiledQuery<Func<PortalDbContext, CancellationToken, Task<long>>> CurrentQuery =
        new(() => EF.CompileAsyncQuery((PortalDbContext db, CancellationToken ct) =>
            db.AccessVersions.Where(a => a.Id == RowId).Select(a => a.Version).First()));

    /// <summary>The database's access version now (in <paramref name="db"/>'s transaction, if it has one).</summary>
    public static Task<long> CurrentAsync(PortalDbContext db, CancellationToken ct = default) => CurrentQuery.For(db)(db, ct);
}

/// <summary>The newest access version this instance has read (the audit writer reads it with every batch).</summary>
public sealed class AccessVersionWatch
{
    private long _latest = -1;

    /// <summary>-1 until one has been read.</summary>
    public long Latest => Interlocked.Read(ref _latest);

    /// <summary>Notes a version read from the database; versions only grow, so an older reading changes nothing.</summary>
    public void Saw(long version)
    {
        var seen = Interlocked.Read(ref _latest);
        while (version > seen)
        {
            var was = Interlocked.CompareExchange(ref _latest, version, seen);
            if (was == seen) return;
            seen = was;
        }
    }
}

/// <summary>
/// The rights or facts a download was decided on changed before its audit row could be committed: the event was not
/// written, and the decision must be taken again from the database.
/// </summary>
public sealed class AccessChangedException() : Exception("What decided this access changed before it was recorded.");
