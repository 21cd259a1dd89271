using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Data.Documents;
using Portal.Data.Folders;
using Portal.Data.Permissions;

namespace Portal.App.Folders;

/// <summary>A folder in the tree as one user sees it.</summary>
public sealed class FolderNode(Guid id, string name, Rights rights)
{
    public Guid Id { get; } = id;
    public string Name { get; } = name;
    public Rights Rights { get; } = rights;
    public List<FolderNode> Children { get; } = [];
}

/// <summary>A document row in a folder listing or in search results (which also say where it is).</summary>
public sealed record DocumentRow(Guid Id, string Name, long Size, string ContentType, DateTimeOffset UpdatedAt, int Version = 1,
    Guid FolderId = default, string? FolderPath = null, bool CanDownload = false);

/// <summary>One step of the breadcrumb: a folder on the way from the top. A folder the user may not browse is "…", not linked.</summary>
public sealed record BreadcrumbStep(Guid Id, string Name, bool CanBrowse = true);

/// <summary>A subfolder in a folder's listing (only those the user may browse are listed).</summary>
public sealed record SubfolderRow(Guid Id, string Name, DateTimeOffset UpdatedAt);

/// <summary>What a folder shows one user: its name path and their rights there. Its documents come a page at a time.</summary>
public sealed record FolderListing(Guid FolderId, IReadOnlyList<BreadcrumbStep> Breadcrumb, Rights Rights, Guid? ParentId = null)
{
    /// <summary>Its subfolders the user may browse, by name: a folder shows them first, then its documents.</summary>
    public IReadOnlyList<SubfolderRow> Subfolders { get; init; } = [];
    public bool CanBrowse => Rights.HasFlag(Rights.Browse);
    public bool CanDownload => Rights.HasFlag(Rights.Download);
    public bool CanUpload => Rights.HasFlag(Rights.Upload);
    public bool CanManage => Rights.HasFlag(Rights.Manage);
    public string Name => Breadcrumb.Count > 0 ? Breadcrumb[^1].Name : "";
}

/// <summary>How a listing is ordered.</summary>
public enum DocumentSort { Name, Date, Size }

/// <summary>One page of a listing and how many rows there are in all.</summary>
public sealed record DocumentPage(IReadOnlyList<DocumentRow> Rows, int Total);

/// <summary>Reads folders and documents for the UI, always through the permission rules (server side).</summary>
public sealed class FolderCatalog(IDbContextFactory<PortalDbContext> contexts, PermissionService permissions)
{
    public const int MaxPageSize = 200;

    /// <summary>The name shown for a folder the user may not browse: it is never named to them.</summary>
    public const string Unnamed = "…";

    /// <summary>The folders <paramref name="actor"/> may browse, as a tree; a visible folder under a hidden one becomes a root.</summary>
    public async Task<IReadOnlyList<FolderNode>> GetTreeAsync(Actor actor, CancellationToken ct = default)
    {
        var rights = await permissions.GetRightsOnAllFoldersAsync(actor, ct);
        await using var db = await contexts.CreateDbContextAsync(ct);
        var folders = await db.Folders.AsNoTracking().Where(f => !f.IsDeleted)
            .Select(f => new { f.Id, f.ParentId, f.Name }).ToListAsync(ct);

        var nodes = folders.Where(f => rights.GetValueOrDefault(f.Id).HasFlag(Rights.Browse))
            .ToDictionary(f => f.Id, f => new FolderNode(f.Id, f.Name, rights[f.Id]));
        var roots = new List<FolderNode>();
        foreach (var f in folders.Where(f => nodes.ContainsKey(f.Id)).OrderBy(f => f.Name, StringComparer.CurrentCultureIgnoreCase))
        {
            if (f.ParentId is { } parent && nodes.TryGetValue(parent, out var parentNode)) parentNode.Children.Add(nodes[f.Id]);
            else roots.Add(nodes[f.Id]);
        }
        return roots;
    }

    /// <summary>
    /// A folder's breadcrumb, its browsable subfolders and the user's rights there, or null when it does not exist.
    /// Folders on the way that the user may not browse show as "…" (their names are never read out to them).
    /// </summary>
    public async Task<FolderListing?> GetListingAsync(Actor actor, Guid folderId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var folder = await db.Folders.Where(f => f.Id == folderId && !f.IsDeleted).Select(f => new { f.Path, f.ParentId }).SingleOrDefaultAsync(ct);
        if (folder is null) return null;

        var access = await PermissionService.PathAccessAsync(db, actor, folder.Path, ct);
        if (!access.Rights.HasFlag(Rights.Browse)) return new FolderListing(folderId, [], access.Rights);
        var ids = Folder.AncestorIdsOf(folder.Path);
        var rights = await permissions.GetRightsOnAllFoldersAsync(actor, ct);
        var names = await db.Folders.Where(f => ids.Contains(f.Id)).Select(f => new { f.Id, f.Name }).ToDictionaryAsync(f => f.Id, f => f.Name, ct);
        var children = await db.Folders.AsNoTracking().Where(f => f.ParentId == folderId && !f.IsDeleted)
            .Select(f => new SubfolderRow(f.Id, f.Name, f.UpdatedAt)).ToListAsync(ct);
        var breadcrumb = ids.Select(i => i == folderId || rights.GetValueOrDefault(i).HasFlag(Rights.Browse)
            ? new BreadcrumbStep(i, names.GetValueOrDefault(i, Unnamed))
            : new BreadcrumbStep(i, Unnamed, CanBrowse: false)).ToList();
        return new FolderListing(folderId, breadcrumb, access.Rights, folder.ParentId)
        {
            Subfolders = children.Where(c => rights.GetValueOrDefault(c.Id).HasFlag(Rights.Browse))
                .OrderBy(c => c.Name, StringComparer.CurrentCultureIgnoreCase).ToList(),
        };
    }

    /// <summary>The documents changed most recently in folders the user may browse (the landing page's list).</summary>
    public async Task<IReadOnlyList<DocumentRow>> RecentAsync(Actor actor, int take = 10, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var query = db.Documents.AsNoTracking().Where(d => !d.IsDeleted && !d.Folder!.IsDeleted);
        IReadOnlyDictionary<Guid, Rights>? rights = null;
        if (!actor.IsAdmin)
        {
            rights = await permissions.GetRightsOnAllFoldersAsync(actor, ct);
            var browsable = rights.Where(r => r.Value.HasFlag(Rights.Browse)).Select(r => r.Key).ToList();
            query = query.Where(d => browsable.Contains(d.FolderId));
        }
        var rows = await query.OrderByDescending(d => d.UpdatedAt).ThenBy(d => d.Id).Take(Math.Clamp(take, 1, 50))
            .Select(d => new { Row = new DocumentRow(d.Id, d.DisplayName, d.Size, d.ContentType, d.UpdatedAt, d.CurrentVersion, d.FolderId, null, false), d.Folder!.Path })
            .ToListAsync(ct);
        return await WithFolderPathsAsync(db, actor, rows.Select(r => (r.Row, r.Path)).ToList(), rights, ct);
    }

    /// <summary>
    /// Why <paramref name="actor"/> may not download the document now (it is gone, or the right is), or null when they
    /// may. Checked before a download from the list starts, so a refusal is explained in the page; the download
    /// endpoint decides again (and records it), this only spares a navigation that would fail.
    /// </summary>
    public async Task<string?> DownloadRefusalAsync(Actor actor, Guid documentId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var doc = await db.Documents.AsNoTracking().Where(d => d.Id == documentId && !d.IsDeleted && !d.Folder!.IsDeleted)
            .Select(d => new { d.DisplayName, d.Folder!.Path }).SingleOrDefaultAsync(ct);
        if (doc is null) return "This document is no longer here: it was deleted or moved away. Reload the folder to see what it holds now.";
        var rights = (await PermissionService.PathAccessAsync(db, actor, doc.Path, ct)).Rights;
        return rights.HasFlag(Rights.Download) ? null
            : $"You may no longer download \"{doc.DisplayName}\": your access to its folder changed. Ask the folder's manager if you need it.";
    }

    /// <summary>
    /// One page of a folder's documents, ordered in the database (by the folded name, the date or the size, each with
    /// its index), so the first page of 10,000 documents costs what the first page of 10 does. Empty without Browse.
    /// </summary>
    public async Task<DocumentPage> GetDocumentPageAsync(Actor actor, Guid folderId, int skip, int take, DocumentSort sort = DocumentSort.Name,
        bool descending = false, CancellationToken ct = default)
    {
        take = Math.Clamp(take, 1, MaxPageSize);
        skip = Math.Max(0, skip);
        await using var db = await contexts.CreateDbContextAsync(ct);
        var path = await db.Folders.Where(f => f.Id == folderId && !f.IsDeleted).Select(f => f.Path).SingleOrDefaultAsync(ct);
        if (path is null) return new DocumentPage([], 0);
        var rights = (await PermissionService.PathAccessAsync(db, actor, path, ct)).Rights;
        if (!rights.HasFlag(Rights.Browse)) return new DocumentPage([], 0);

        var query = db.Documents.AsNoTracking().Where(d => d.FolderId == folderId && !d.IsDeleted);
        var total = await query.CountAsync(ct);
        var rows = await Ordered(query, sort, descending).Skip(skip).Take(take)
            .Select(d => new DocumentRow(d.Id, d.DisplayName, d.Size, d.ContentType, d.UpdatedAt, d.CurrentVersion, d.FolderId, null, false))
            .ToListAsync(ct);
        var canDownload = rights.HasFlag(Rights.Download);
        return new DocumentPage(rows.Select(r => r with { CanDownload = canDownload }).ToList(), total);
    }

    /// <summary>
    /// Documents whose name contains <paramref name="text"/> (accents and case ignored) in every folder the user may
    /// browse. The permission filter is part of the query: documents elsewhere are never read.
    /// </summary>
    public async Task<DocumentPage> SearchAsync(Actor actor, string text, int skip, int take, CancellationToken ct = default)
    {
        var key = NameSortKey.For(text.Trim());
        if (key.Length == 0) return new DocumentPage([], 0);
        take = Math.Clamp(take, 1, MaxPageSize);
        skip = Math.Max(0, skip);
        await using var db = await contexts.CreateDbContextAsync(ct);
        var query = db.Documents.AsNoTracking().Where(d => !d.IsDeleted && !d.Folder!.IsDeleted && d.SortName.Contains(key));
        IReadOnlyDictionary<Guid, Rights>? rights = null;
        if (!actor.IsAdmin)
        {
            rights = await permissions.GetRightsOnAllFoldersAsync(actor, ct);
            var browsable = rights.Where(r => r.Value.HasFlag(Rights.Browse)).Select(r => r.Key).ToList();
            query = query.Where(d => browsable.Contains(d.FolderId));
        }
        var total = await query.CountAsync(ct);
        var rows = await query.OrderBy(d => d.SortName).ThenBy(d => d.Id).Skip(skip).Take(take)
            .Select(d => new { Row = new DocumentRow(d.Id, d.DisplayName, d.Size, d.ContentType, d.UpdatedAt, d.CurrentVersion, d.FolderId, null, false), d.Folder!.Path })
            .ToListAsync(ct);
        return new DocumentPage(await WithFolderPathsAsync(db, actor, rows.Select(r => (r.Row, r.Path)).ToList(), rights, ct), total);
    }

    /// <summary>Rows with the name path of their folder ("…" for folders on the way the user may not browse) and the Download right.</summary>
    private async Task<IReadOnlyList<DocumentRow>> WithFolderPathsAsync(PortalDbContext db, Actor actor, IReadOnlyList<(DocumentRow Row, string Path)> rows,
        IReadOnlyDictionary<Guid, Rights>? rights, CancellationToken ct)
    {
        var ids = rows.SelectMany(r => Folder.AncestorIdsOf(r.Path)).Distinct().ToList();
        var names = await db.Folders.Where(f => ids.Contains(f.Id)).ToDictionaryAsync(f => f.Id, f => f.Name, ct);
        string NameOf(Guid id) => rights is null || rights.GetValueOrDefault(id).HasFlag(Rights.Browse) ? names.GetValueOrDefault(id, Unnamed) : Unnamed;
        return rows.Select(r => r.Row with
        {
            FolderPath = "/" + string.Join('/', Folder.AncestorIdsOf(r.Path).Select(NameOf)),
            CanDownload = rights is null || rights.GetValueOrDefault(r.Row.FolderId).HasFlag(Rights.Download),
        }).ToList();
    }

    /// <summary>Folders the user may manage (for "move to"), by their name paths.</summary>
    public async Task<IReadOnlyList<BreadcrumbStep>> ManageableFoldersAsync(Actor actor, Guid? excludeSubtreeOf = null, CancellationToken ct = default)
    {
        var excluded = excludeSubtreeOf is { } x ? "/" + x.ToString("N") + "/" : null;
        var rights = await permissions.GetRightsOnAllFoldersAsync(actor, ct);
        await using var db = await contexts.CreateDbContextAsync(ct);
        var folders = await db.Folders.AsNoTracking().Where(f => !f.IsDeleted).Select(f => new { f.Id, f.Name, f.Path }).ToListAsync(ct);
        var names = folders.ToDictionary(f => f.Id, f => f.Name);
        return folders.Where(f => rights.GetValueOrDefault(f.Id).HasFlag(Rights.Manage) && (excluded is null || !f.Path.Contains(excluded)))
            .Select(f => new BreadcrumbStep(f.Id, "/" + string.Join('/', Folder.AncestorIdsOf(f.Path)
                .Select(i => rights.GetValueOrDefault(i).HasFlag(Rights.Browse) ? names.GetValueOrDefault(i, Unnamed) : Unnamed))))
            .OrderBy(f => f.Name, StringComparer.InvariantCultureIgnoreCase).ToList();
    }

    private static IQueryable<Document> Ordered(IQueryable<Document> query, DocumentSort sort, bool descending) => (sort, descending) switch
    {
        (DocumentSort.Date, false) => query.OrderBy(d => d.UpdatedAt).ThenBy(d => d.Id),
        (DocumentSort.Date, true) => query.OrderByDescending(d => d.UpdatedAt).ThenByDescending(d => d.Id),
        (DocumentSort.Size, false) => query.OrderBy(d => d.Size).ThenBy(d => d.Id),
        (DocumentSort.Size, true) => query.OrderByDescending(d => d.Size).ThenByDescending(d => d.Id),
        (_, false) => query.OrderBy(d => d.SortName).ThenBy(d => d.Id),
        (_, true) => query.OrderByDescending(d => d.SortName).ThenByDescending(d => d.Id),
    };
}
