using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using Portal.Data.Folders;

namespace Portal.Data.Permissions;

/// <summary>Answers "what may this user do here" from the database. Every endpoint and component asks it.</summary>
public sealed partial class PermissionService(IDbContextFactory<PortalDbContext> contexts)
{
    /// <summary>
    /// Effective rights of <paramref name="actor"/> on a folder, or None when the folder is unknown or deleted.
    /// One query: the folder's ancestors (folders whose materialised path is a prefix of its path) with the grants
    /// on each that reach the user directly or through a group.
    /// </summary>
    public async Task<Rights> GetRightsAsync(Actor actor, Guid folderId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        if (actor.IsAdmin) return await db.Folders.AnyAsync(f => f.Id == folderId && !f.IsDeleted, ct) ? Rights.All : Rights.None;
        var userId = actor.UserId;
        var path = await (
                from t in db.Folders
                where t.Id == folderId && !t.IsDeleted
                from f in db.Folders
                select new FolderAndAncestor { Folder = t, Ancestor = f })
            .Where(IsAncestor)
            // Flat rows (one per ancestor and matching entry, or one with no entry): no collection to assemble.
            .SelectMany(x => x.Ancestor.Permissions
                    .Where(p => p.UserId == userId
                        || (p.GroupId != null && db.GroupMemberships.Any(m => m.UserId == userId && m.GroupId == p.GroupId)))
                    .Select(p => (Rights?)p.Rights)
                    .DefaultIfEmpty(),
                (x, rights) => new { x.Ancestor.Path, x.Ancestor.InheritPermissions, Rights = rights })
            .AsNoTracking()
            .ToListAsync(ct);
        if (path.Count == 0) return Rights.None;
        return EffectiveRights.Compute(path.GroupBy(f => f.Path).OrderBy(f => f.Key.Length)
            .Select(f => new FolderGrants(f.First().InheritPermissions, f.Aggregate(Rights.None, (a, b) => a | (b.Rights ?? Rights.None))))
            .ToList());
    }

    internal sealed class FolderAndAncestor
    {
        public required Folder Folder { get; init; }
        public required Folder Ancestor { get; init; }
    }

    /// <summary>
    /// "Ancestor is the folder itself or one of its ancestors". An ancestor's materialised path is the prefix of the
    /// folder's path of length 1 + 33 × depth (ids are 32 hex digits and a slash), so this is "Path IN (those prefixes)"
    /// on the indexed Path column: index lookups, no scan of the folders table, and one condition for the planner.
    /// </summary>
    private static readonly Expression<Func<FolderAndAncestor, bool>> IsAncestor = BuildIsAncestor();

    private static Expression<Func<FolderAndAncestor, bool>> BuildIsAncestor()
    {
        var x = Expression.Parameter(typeof(FolderAndAncestor), "x");
        var folderPath = Expression.Property(Expression.Property(x, nameof(FolderAndAncestor.Folder)), nameof(Folder.Path));
        var ancestorPath = Expression.Property(Expression.Property(x, nameof(FolderAndAncestor.Ancestor)), nameof(Folder.Path));
        var substring = typeof(string).GetMethod(nameof(string.Substring), [typeof(int), typeof(int)])!;
        var prefixes = Enumerable.Range(1, MaxDepth)
            .Select(depth => (Expression)Expression.Call(folderPath, substring, Expression.Constant(0), Expression.Constant(1 + 33 * depth)));
        // new[] { prefix1, prefix2, ... }.Contains(ancestor.Path): "Path IN (...)", one index condition to plan.
        var any = Expression.Call(typeof(Enumerable), nameof(Enumerable.Contains), [typeof(string)],
            Expression.NewArrayInit(typeof(string), prefixes), ancestorPath);
        return Expression.Lambda<Func<FolderAndAncestor, bool>>(any, x);
    }

    /// <summary>The deepest a folder can be: its path column holds 1,000 characters, 33 per level.</summary>
    public const int MaxDepth = 30;

    /// <summary>What the download path needs in one query: the rights on a folder and its path by names.</summary>
    public sealed record PathAccess(Rights Rights, string NamesPath);

    /// <summary>
    /// Rights of <paramref name="actor"/> on the last folder of <paramref name="materializedPath"/>, and that path by
    /// folder names (for the audit record), from a single query over the folders on the path.
    /// </summary>
    public static async Task<PathAccess> PathAccessAsync(PortalDbContext db, Actor actor, string materializedPath, CancellationToken ct)
    {
        var pathIds = Folder.AncestorIdsOf(materializedPath);
        var rows = await GrantsOnFolders(db, actor.UserId, pathIds).ToDictionaryAsync(r => r.FolderId, ct);
        var names = "/" + string.Join('/', pathIds.Select(id => rows.TryGetValue(id, out var r) ? r.Name : "?"));
        if (actor.IsAdmin) return new PathAccess(Rights.All, names);
        var path = pathIds.Select(id => rows.TryGetValue(id, out var r)
            ? new FolderGrants(r.Inherits, r.Rights.Aggregate(Rights.None, (a, b) => a | b))
            : new FolderGrants(false, Rights.None)).ToList();
        return new PathAccess(EffectiveRights.Compute(path), names);
    }

    internal sealed record FolderGrantRow(Guid FolderId, string Name, bool Inherits, List<Rights> Rights);

    internal static IQueryable<FolderGrantRow> GrantsOnFolders(PortalDbContext db, Guid userId, IReadOnlyCollection<Guid> folderIds) =>
        db.Folders
            .Where(f => folderIds.Contains(f.Id))
            .Select(f => new FolderGrantRow(
                f.Id,
                f.Name,
                f.InheritPermissions,
                f.Permissions
                    .Where(p => p.UserId == userId
                        || (p.GroupId != null && db.GroupMemberships.Any(m => m.UserId == userId && m.GroupId == p.GroupId)))
                    .Select(p => p.Rights)
                    .ToList()));

    /// <summary>
    /// Rights on every live folder at once, for the folder tree: two queries, then the same rule per folder.
    /// </summary>
    public async Task<IReadOnlyDictionary<Guid, Rights>> GetRightsOnAllFoldersAsync(Actor actor, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var folders = await db.Folders.Where(f => !f.IsDeleted).Select(f => new { f.Id, f.Path, f.InheritPermissions }).ToListAsync(ct);
        if (actor.IsAdmin) return folders.ToDictionary(f => f.Id, _ => Rights.All);

        var grants = await UserGrants(db, actor.UserId).ToListAsync(ct);
        var granted = grants.GroupBy(g => g.FolderId).ToDictionary(g => g.Key, g => g.Aggregate(Rights.None, (a, b) => a | b.Rights));
        var inherits = folders.ToDictionary(f => f.Id, f => f.InheritPermissions);

        return folders.ToDictionary(f => f.Id, f => EffectiveRights.Compute(
            Folder.AncestorIdsOf(f.Path)
                .Select(id => new FolderGrants(inherits.GetValueOrDefault(id), granted.GetValueOrDefault(id)))
                .ToList()));
    }

    internal sealed record GrantRow(Guid FolderId, Rights Rights);

    internal static IQueryable<GrantRow> UserGrants(PortalDbContext db, Guid userId) =>
        db.PermissionEntries
            .Where(p => p.UserId == userId
                || (p.GroupId != null && db.GroupMemberships.Any(m => m.UserId == userId && m.GroupId == p.GroupId)))
            .Select(p => new GrantRow(p.FolderId, p.Rights));
}
