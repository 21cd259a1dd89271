using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Data.Audit;
using Portal.Data.Downloads;

namespace Portal.App.Audit;

/// <summary>An audit event as the compliance view lists it, with the delivery receipt of a download.</summary>
public sealed record AuditRow(
    long Id, DateTimeOffset OccurredAt, AuditAction Action, AuditOutcome Outcome, string? Reason, string? Actor,
    string? ClientIp, string? TargetPath, string? TargetName, long? Size, string? Range, DeliveryReceipt? Receipt)
{
    public string Delivery => DeliverySummary.Describe(Action, Outcome, Size, Receipt);
    public Guid? ActorUserId { get; init; }
    public Guid? DocumentId { get; init; }
    public Guid? FolderId { get; init; }

    /// <summary>"/Finance/2026/report.pdf", or the folder path alone for a folder event.</summary>
    public string Target => AuditTarget.Describe(TargetPath, TargetName, DocumentId);
}

/// <summary>What an event was about, as a path a person reads.</summary>
public static class AuditTarget
{
    /// <summary>
    /// A document's event holds its folder's path and its own name: both, joined. A folder's event holds the folder's own
    /// path (which ends with its name) and its name: the path alone, not "/Company/Minutes/Minutes". Anything else whose
    /// path does not end with the name (a refused new folder or upload: the folder it was meant for, and the name asked
    /// for) gets both.
    /// </summary>
    public static string Describe(string? path, string? name, Guid? documentId) =>
        (path, name) switch
        {
            (_, null) => path ?? "",
            (null, _) => name,
            _ when documentId is null && path.EndsWith("/" + name, StringComparison.Ordinal) => path,
            _ => $"{path}/{name}",
        };
}

/// <summary>One keyset page, newest first, with the cursors for the pages either side.</summary>
public sealed record AuditPage(IReadOnlyList<AuditRow> Rows, bool HasOlder, bool HasNewer)
{
    public long? OldestId => Rows.Count > 0 ? Rows[^1].Id : null;
    public long? NewestId => Rows.Count > 0 ? Rows[0].Id : null;
}

/// <summary>A choice in the user, document and folder pickers of the filter.</summary>
public sealed record AuditPick(Guid Id, string Label);

/// <summary>Events per day, by action and outcome, for the charts.</summary>
public sealed record DailyCount(DateTime Day, AuditAction Action, AuditOutcome Outcome, int Count);
public sealed record TopItem(Guid? Id, string Label, int Count);

/// <summary>
/// Reads the audit log for compliance officers. Read-only: the app has no path that changes events. Paging is by
/// keyset (id below the last one seen), so the thousandth page costs what the first does, on millions of rows.
/// </summary>
public sealed class AuditQueries(IDbContextFactory<PortalDbContext> contexts)
{
    public const int MaxPageSize = 500;

    /// <summary>The newest events first, one page (keyset: pass the smallest id of the previous page).</summary>
    public async Task<IReadOnlyList<AuditRow>> NewestAsync(int pageSize, long? beforeId = null, CancellationToken ct = default) =>
        (await PageAsync(new AuditFilter(), pageSize, beforeId, null, ct)).Rows;

    /// <summary>
    /// One page of the filtered log, newest first: older than <paramref name="beforeId"/>, or (going back towards the
    /// newest) newer than <paramref name="afterId"/>.
    /// </summary>
    public async Task<AuditPage> PageAsync(AuditFilter filter, int pageSize, long? beforeId = null, long? afterId = null, CancellationToken ct = default)
    {
        pageSize = Math.Clamp(pageSize, 1, MaxPageSize);
        await using var db = await contexts.CreateDbContextAsync(ct);
        var events = await FilteredAsync(db, filter, ct);
        List<AuditEvent> found;
        bool hasOlder, hasNewer;
        if (afterId is { } after)
        {
            found = await events.Where(e => e.Id > after).OrderBy(e => e.Id).Take(pageSize + 1).ToListAsync(ct);
            hasNewer = found.Count > pageSize;
            found = found.Take(pageSize).Reverse().ToList();
            hasOlder = true;
        }
        else
        {
            if (beforeId is { } before) events = events.Where(e => e.Id < before);
            found = await events.OrderByDescending(e => e.Id).Take(pageSize + 1).ToListAsync(ct);
            hasOlder = found.Count > pageSize;
            found = found.Take(pageSize).ToList();
            hasNewer = beforeId is not null;
        }
        var ids = found.Select(e => e.Id).ToList();
        var receipts = ids.Count == 0 ? [] : await db.DeliveryReceipts.AsNoTracking().Where(r => ids.Contains(r.AuditEventId)).OrderBy(r => r.Id).ToListAsync(ct);
        var firstReceipt = receipts.GroupBy(r => r.AuditEventId).ToDictionary(g => g.Key, g => g.First());
        return new AuditPage(found.Select(e => ToRow(e, firstReceipt.GetValueOrDefault(e.Id))).ToList(), hasOlder, hasNewer);
    }

    /// <summary>How many events match (the export's progress readout shows "n of this").</summary>
    public async Task<long> CountAsync(AuditFilter filter, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await (await FilteredAsync(db, filter, ct)).LongCountAsync(ct);
    }

    /// <summary>One event with every field and all its delivery receipts, for the detail view.</summary>
    public async Task<(AuditEvent Event, IReadOnlyList<DeliveryReceipt> Receipts)?> EventAsync(long id, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var e = await db.AuditEvents.AsNoTracking().SingleOrDefaultAsync(x => x.Id == id, ct);
        if (e is null) return null;
        var receipts = await db.DeliveryReceipts.AsNoTracking().Where(r => r.AuditEventId == id).OrderBy(r => r.Id).ToListAsync(ct);
        return (e, receipts);
    }

    /// <summary>The matching events in chain (id) order, streamed: memory stays flat whatever the count.</summary>
    public async IAsyncEnumerable<AuditEvent> StreamAsync(AuditFilter filter, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        db.Database.SetCommandTimeout(TimeSpan.FromHours(1));
        var events = await FilteredAsync(db, filter, ct);
        await foreach (var e in events.OrderBy(e => e.Id).AsAsyncEnumerable().WithCancellation(ct)) yield return e;
    }

    /// <summary>The chain head now: the newest event's id and hash (the export manifest names it).</summary>
    public async Task<(long Id, string Hash)?> HeadAsync(CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var head = await db.AuditEvents.OrderByDescending(e => e.Id).Select(e => new { e.Id, e.Hash }).FirstOrDefaultAsync(ct);
        return head is null ? null : (head.Id, head.Hash);
    }

    // ---- pickers --------------------------------------------------------------------------------------------

    public async Task<IReadOnlyList<AuditPick>> UsersAsync(string? search, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var users = db.Users.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(search)) users = users.Where(u => u.DisplayName.Contains(search) || (u.Email != null && u.Email.Contains(search)));
        return (await users.OrderBy(u => u.DisplayName).Take(50).Select(u => new { u.Id, u.DisplayName, u.Email }).ToListAsync(ct))
            .Select(u => new AuditPick(u.Id, u.Email is null ? u.DisplayName : $"{u.DisplayName} <{u.Email}>")).ToList();
    }

    /// <summary>One person as the user picker names them (a filter that came with a link holds only the id).</summary>
    public async Task<AuditPick?> UserPickAsync(Guid id, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var u = await db.Users.AsNoTracking().Where(u => u.Id == id).Select(u => new { u.Id, u.DisplayName, u.Email }).SingleOrDefaultAsync(ct);
        return u is null ? new AuditPick(id, id.ToString()) : new AuditPick(u.Id, u.Email is null ? u.DisplayName : $"{u.DisplayName} <{u.Email}>");
    }

    /// <summary>One document as the document picker names it, with its folder path.</summary>
    public async Task<AuditPick?> DocumentPickAsync(Guid id, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var d = await db.Documents.AsNoTracking().Where(d => d.Id == id).Select(d => new { d.Id, d.DisplayName, FolderPath = d.Folder!.Path }).SingleOrDefaultAsync(ct);
        return d is null ? new AuditPick(id, id.ToString()) : new AuditPick(d.Id, $"{NamesPath(d.FolderPath, await FolderNamesAsync(db, ct))}/{d.DisplayName}");
    }

    /// <summary>Documents by name, deleted ones too (their history still matters), with their folder path.</summary>
    public async Task<IReadOnlyList<AuditPick>> DocumentsAsync(string? search, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var docs = db.Documents.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(search)) docs = docs.Where(d => d.DisplayName.Contains(search));
        var found = await docs.OrderBy(d => d.DisplayName).Take(50).Select(d => new { d.Id, d.DisplayName, FolderPath = d.Folder!.Path }).ToListAsync(ct);
        var names = await FolderNamesAsync(db, ct);
        return found.Select(d => new AuditPick(d.Id, $"{NamesPath(d.FolderPath, names)}/{d.DisplayName}")).ToList();
    }

    public async Task<IReadOnlyList<AuditPick>> FoldersAsync(CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var folders = await db.Folders.AsNoTracking().Select(f => new { f.Id, f.Path }).ToListAsync(ct);
        var names = await FolderNamesAsync(db, ct);
        return folders.Select(f => new AuditPick(f.Id, NamesPath(f.Path, names))).OrderBy(p => p.Label, StringComparer.CurrentCultureIgnoreCase).ToList();
    }

    private static async Task<Dictionary<Guid, string>> FolderNamesAsync(PortalDbContext db, CancellationToken ct) =>
        await db.Folders.AsNoTracking().ToDictionaryAsync(f => f.Id, f => f.Name, ct);

    private static string NamesPath(string idPath, Dictionary<Guid, string> names) =>
        "/" + string.Join('/', Portal.Data.Folders.Folder.AncestorIdsOf(idPath).Select(id => names.GetValueOrDefault(id, "?")));

    // ---- reports and charts --------------------------------------------------------------------------------

    /// <summary>Events per day, by action and outcome, over [from, to) (one indexed range count per day).</summary>
    public async Task<IReadOnlyList<DailyCount>> PerDayAsync(AuditFilter filter, DateTime fromDay, int days, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var events = await FilteredAsync(db, filter, ct);
        var result = new List<DailyCount>();
        for (var i = 0; i < days; i++)
        {
            var start = new DateTimeOffset(fromDay.Date.AddDays(i), TimeSpan.Zero);
            var end = start.AddDays(1);
            var counts = await events.Where(e => e.OccurredAt >= start && e.OccurredAt < end)
                .GroupBy(e => new { e.Action, e.Outcome }).Select(g => new { g.Key.Action, g.Key.Outcome, Count = g.Count() }).ToListAsync(ct);
            result.AddRange(counts.Select(c => new DailyCount(start.UtcDateTime, c.Action, c.Outcome, c.Count)));
        }
        return result;
    }

    /// <summary>The most downloaded or viewed documents under the filter.</summary>
    public async Task<IReadOnlyList<TopItem>> TopDocumentsAsync(AuditFilter filter, int take = 10, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var events = (await FilteredAsync(db, filter, ct))
            .Where(e => e.DocumentId != null && (e.Action == AuditAction.DocumentDownloaded || e.Action == AuditAction.DocumentViewed));
        var top = await events.GroupBy(e => e.DocumentId).Select(g => new { Id = g.Key, Count = g.Count() })
            .OrderByDescending(g => g.Count).Take(take).ToListAsync(ct);
        var ids = top.Select(t => t.Id).ToList();
        var labels = await db.AuditEvents.AsNoTracking().Where(e => ids.Contains(e.DocumentId) && e.TargetName != null)
            .GroupBy(e => e.DocumentId).Select(g => new { Id = g.Key, LastId = g.Max(e => e.Id) }).ToListAsync(ct);
        var lastIds = labels.Select(l => l.LastId).ToList();
        var names = await db.AuditEvents.AsNoTracking().Where(e => lastIds.Contains(e.Id)).Select(e => new { e.DocumentId, e.TargetPath, e.TargetName }).ToListAsync(ct);
        return top.Select(t => new TopItem(t.Id, names.FirstOrDefault(n => n.DocumentId == t.Id) is { } n ? $"{n.TargetPath}/{n.TargetName}" : t.Id.ToString()!, t.Count)).ToList();
    }

    /// <summary>The most active people under the filter.</summary>
    public async Task<IReadOnlyList<TopItem>> TopUsersAsync(AuditFilter filter, int take = 10, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var events = (await FilteredAsync(db, filter, ct)).Where(e => e.ActorUserId != null);
        var top = await events.GroupBy(e => e.ActorUserId).Select(g => new { Id = g.Key, Count = g.Count() })
            .OrderByDescending(g => g.Count).Take(take).ToListAsync(ct);
        var ids = top.Select(t => t.Id!.Value).ToList();
        var names = await db.Users.AsNoTracking().Where(u => ids.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.DisplayName, ct);
        return top.Select(t => new TopItem(t.Id, names.GetValueOrDefault(t.Id!.Value, t.Id.ToString()!), t.Count)).ToList();
    }

    // ---- the filter ------------------------------------------------------------------------------------------

    /// <summary>The filter as a query. A folder with subfolders means the folders below it now (by materialised path).</summary>
    internal static async Task<IQueryable<AuditEvent>> FilteredAsync(PortalDbContext db, AuditFilter f, CancellationToken ct)
    {
        var events = db.AuditEvents.AsNoTracking();
        // A time range becomes an id range: times never go backwards along the chain (AuditLog stamps each batch with at
        // least the previous event's time), so the events from "from" to "to" are exactly those between the first
        // event at or after "from" and the last event before "to". Newest-first pages then walk the primary key (or a
        // filter's (column, id) index) inside that range instead of sorting a whole day or month by id.
        if (f.From is { } from)
        {
            var firstAt = await db.AuditEvents.Where(e => e.OccurredAt >= from).OrderBy(e => e.OccurredAt).Select(e => (DateTimeOffset?)e.OccurredAt).FirstOrDefaultAsync(ct);
            var lowId = firstAt is { } at ? await db.AuditEvents.Where(e => e.OccurredAt == at).MinAsync(e => e.Id, ct) : long.MaxValue;
            events = events.Where(e => e.Id >= lowId);
        }
        if (f.To is { } to)
        {
            var lastAt = await db.AuditEvents.Where(e => e.OccurredAt < to).OrderByDescending(e => e.OccurredAt).Select(e => (DateTimeOffset?)e.OccurredAt).FirstOrDefaultAsync(ct);
            var highId = lastAt is { } at ? await db.AuditEvents.Where(e => e.OccurredAt == at).MaxAsync(e => e.Id, ct) : 0;
            events = events.Where(e => e.Id <= highId);
        }
        if (f.UserId is { } user) events = events.Where(e => e.ActorUserId == user);
        if (f.DocumentId is { } doc) events = events.Where(e => e.DocumentId == doc);
        if (f.FolderId is { } folder)
        {
            if (f.IncludeSubfolders && await db.Folders.Where(x => x.Id == folder).Select(x => x.Path).SingleOrDefaultAsync(ct) is { } path)
            {
                var subtree = await db.Folders.Where(x => x.Path.StartsWith(path)).Select(x => (Guid?)x.Id).ToListAsync(ct);
                events = events.Where(e => subtree.Contains(e.FolderId));
            }
            else events = events.Where(e => e.FolderId == folder);
        }
        if (f.Actions.Count == 1) { var a = f.Actions[0]; events = events.Where(e => e.Action == a); }
        else if (f.Actions.Count > 1) { var actions = f.Actions.ToList(); events = events.Where(e => actions.Contains(e.Action)); }
        if (f.Outcome is { } outcome) events = events.Where(e => e.Outcome == outcome);
        if (f.ClientIp is { } ip) events = events.Where(e => e.ClientIp == ip);
        return events;
    }

    internal static AuditRow ToRow(AuditEvent e, DeliveryReceipt? receipt) =>
        new(e.Id, e.OccurredAt, e.Action, e.Outcome, e.Reason, e.ActorDisplayName, e.ClientIp, e.TargetPath, e.TargetName, e.Size, e.Range, receipt)
        { ActorUserId = e.ActorUserId, DocumentId = e.DocumentId, FolderId = e.FolderId };
}

/// <summary>Says in words whether the person got the file, from nginx's receipt.</summary>
public static class DeliverySummary
{
    public static string Describe(AuditAction action, AuditOutcome outcome, long? size, DeliveryReceipt? receipt)
    {
        if (action is not (AuditAction.DocumentDownloaded or AuditAction.DocumentViewed)) return "";
        if (outcome != AuditOutcome.Allowed) return "not served";
        if (receipt is null) return "no receipt";
        var took = $"{receipt.DurationMs / 1000.0:0.0} s";
        return receipt switch
        {
            { Status: 304 } => "not modified (304)",
            { Status: 206, Completed: true } => $"range {receipt.Range}: {Bytes(receipt.BytesSent)} in {took}",
            { Status: 200, Completed: true } => $"completed: {Bytes(receipt.BytesSent)} in {took}",
            { Completed: false } => $"aborted at {Bytes(receipt.BytesSent)}" + (size is > 0 ? $" of {Bytes(size.Value)}" : "") + $" after {took}",
            _ => $"status {receipt.Status}: {Bytes(receipt.BytesSent)}",
        };
    }

    internal static string Bytes(long n) => n switch
    {
        < 1024 => $"{n} B",
        < 1024 * 1024 => $"{n / 1024.0:0.#} KiB",
        < 1024L * 1024 * 1024 => $"{n / (1024.0 * 1024):0.#} MiB",
        _ => $"{n / (1024.0 * 1024 * 1024):0.##} GiB",
    };
}
