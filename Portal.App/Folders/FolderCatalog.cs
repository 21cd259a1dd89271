using Microsoft.EntityFrameworkCore;
using Portal.Data;
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

/// <summary>A document row in a folder listing.</summary>
public sealed record DocumentRow(Guid Id, string Name, long Size, string ContentType, DateTimeOffset UpdatedAt);

/// <summary>What a folder shows one user: its name path, their rights, and the documents when they may browse.</summary>
public sealed record FolderListing(Guid FolderId, IReadOnlyList<string> Breadcrumb, Rights Rights, IReadOnlyList<DocumentRow> Documents)
{
    public bool CanBrowse => Rights.HasFlag(Rights.Browse);
    public bool CanDownload => Rights.HasFlag(Rights.Download);
}

/// <summary>Reads folders and documents for the UI, always through the permission rules (server side).</summary>
public sealed class FolderCatalog(IDbContextFactory<PortalDbContext> contexts, PermissionService permissions)
{
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

    /// <summary>The listing of one folder, or null when it does not exist. Documents are empty without Browse.</summary>
    public async Task<FolderListing?> GetListingAsync(Actor actor, Guid folderId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var path = await db.Folders.Where(f => f.Id == folderId && !f.IsDeleted).Select(f => f.Path).SingleOrDefaultAsync(ct);
        if (path is null) return null;

        var rights = await permissions.GetRightsAsync(actor, folderId, ct);
        if (!rights.HasFlag(Rights.Browse)) return new FolderListing(folderId, [], rights, []);

        var ids = Folder.AncestorIdsOf(path);
        var names = await db.Folders.Where(f => ids.Contains(f.Id)).Select(f => new { f.Id, f.Name }).ToDictionaryAsync(f => f.Id, f => f.Name, ct);
        var documents = (await db.Documents.AsNoTracking()
            .Where(d => d.FolderId == folderId && !d.IsDeleted)
            .Select(d => new DocumentRow(d.Id, d.DisplayName, d.Size, d.ContentType, d.UpdatedAt))
            .ToListAsync(ct))
            // As people read names ("Équipe" under E), the same on every server whatever its locale or collation.
            .OrderBy(d => d.Name, StringComparer.InvariantCultureIgnoreCase)
            .ToList();
        return new FolderListing(folderId, ids.Select(i => names.GetValueOrDefault(i, "…")).ToList(), rights, documents);
    }
}
