using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using Portal.Data.Database;
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
        // new[] { prefix1, prefix2, ... }.Contains(ancestor.Path): "Path IN (...)", one index condition to plan.
        var any = Expression.Call(typeof(Enumerable), nameof(Enumerable.Contains), [typeof(string)],
            PrefixesOf(folderPath, MaxDepth), ancestorPath);
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
        var access = new PathAccessBuilder(pathIds);
        await foreach (var row in GrantsOnPath(db, actor.UserId, materializedPath, pathIds.Count).WithCancellation(ct)) access.Add(row);
        return access.For(actor);
    }

    /// <summary>Folds the rows of the grants query (any order) into the rights on the path's last folder and the path by names.</summary>
    internal sealed class PathAccessBuilder(IReadOnlyList<Guid> pathIds)
    {
        private readonly Dictionary<Guid, string> _names = new(pathIds.Count);
        private readonly Dictionary<Guid, (bool Inherits, Rights Rights)> _granted = new(pathIds.Count);

        public void Add(FolderGrantRow row)
        {
            _names[row.FolderId] = row.Name;
            _granted[row.FolderId] = (row.Inherits, (_granted.TryGetValue(row.FolderId, out var g) ? g.Rights : Rights.None) | (row.Rights ?? Rights.None));
        }

        public PathAccess For(Actor actor)
        {
            var namesPath = "/" + string.Join('/', pathIds.Select(id => _names.GetValueOrDefault(id, "?")));
            if (actor.IsAdmin) return new PathAccess(Rights.All, namesPath);
            var path = pathIds.Select(id => _granted.TryGetValue(id, out var g)
                ? new FolderGrants(g.Inherits, g.Rights)
                : new FolderGrants(false, Rights.None)).ToList();
            return new PathAccess(EffectiveRights.Compute(path), namesPath);
        }
    }

    internal sealed record FolderGrantRow(Guid FolderId, string Name, bool Inherits, Rights? Rights);

    /// <summary>
    /// The folders on a materialised path of <paramref name="depth"/> folders, with the grants on each that reach the
    /// user directly or through a group: flat rows, one per folder and matching entry (or one with no entry). The
    /// folders are "Path IN (the path's prefixes)", computed in SQL from the one path parameter, so the SQL for a depth
    /// is the same on every call.
    /// </summary>
    internal static Expression<Func<PortalDbContext, Guid, string, IQueryable<FolderGrantRow>>> GrantsOnFolders(int depth) =>
        WithPathPrefixes<Func<PortalDbContext, Guid, string, IQueryable<FolderGrantRow>>>((db, userId, path) => db.Folders.AsNoTracking()
            .Where(f => PathPrefixes(path).Contains(f.Path))
            .SelectMany(f => f.Permissions
                    .Where(p => p.UserId == userId
                        || (p.GroupId != null && db.GroupMemberships.Any(m => m.UserId == userId && m.GroupId == p.GroupId)))
                    .Select(p => (Rights?)p.Rights)
                    .DefaultIfEmpty(),
                (f, rights) => new FolderGrantRow(f.Id, f.Name, f.InheritPermissions, rights)), depth);

    /// <summary>
    /// Compiled, one per depth: this runs for every download, and EF's per-call work on a LINQ query (expression trees,
    /// cache keys, SQL for a list parameter) cost more than the database did. Per depth, so SQLite, which prepares
    /// each statement anew, parses only the prefixes there are.
    /// </summary>
    private static readonly CompiledQuery<Func<PortalDbContext, Guid, string, IAsyncEnumerable<FolderGrantRow>>>[] GrantsOnPathByDepth =
        [.. Enumerable.Range(0, MaxDepth + 1).Select(depth =>
            new CompiledQuery<Func<PortalDbContext, Guid, string, IAsyncEnumerable<FolderGrantRow>>>(() => EF.CompileAsyncQuery(GrantsOnFolders(depth))))];

    private static IAsyncEnumerable<FolderGrantRow> GrantsOnPath(PortalDbContext db, Guid userId, string path, int depth) =>
        GrantsOnPathByDepth[Math.Clamp(depth, 0, MaxDepth)].For(db)(db, userId, path);

    /// <summary>A placeholder in query expressions, replaced by <see cref="WithPathPrefixes{T}"/>; never called.</summary>
    private static string[] PathPrefixes(string path) => throw new InvalidOperationException("Only for use in a query expression.");

    /// <summary>Replaces PathPrefixes(path) by the array of path.Substring(0, 1 + 33 × d) for d = 1..depth.</summary>
    private static Expression<T> WithPathPrefixes<T>(Expression<T> query, int depth) => (Expression<T>)new PathPrefixesExpander(depth).Visit(query);

    private sealed class PathPrefixesExpander(int depth) : ExpressionVisitor
    {
        protected override Expression VisitMethodCall(MethodCallExpression node) =>
            node.Method.Name == nameof(PathPrefixes) && node.Method.DeclaringType == typeof(PermissionService)
                ? PrefixesOf(Visit(node.Arguments[0]), depth)
                : base.VisitMethodCall(node);
    }

    /// <summary>
    /// new[] { path.Substring(0, 34), path.Substring(0, 67), … } for levels 1..<paramref name="depth"/>: the materialised
    /// paths of a folder's ancestors (ids are 32 hex digits and a slash); in SQL, substr() of a shorter path is the path.
    /// </summary>
    private static NewArrayExpression PrefixesOf(Expression path, int depth)
    {
        // A local, not a static field: static initialisers run in file order, and IsAncestor above is built from this.
        var substring = typeof(string).GetMethod(nameof(string.Substring), [typeof(int), typeof(int)])!;
        return Expression.NewArrayInit(typeof(string), Enumerable.Range(1, depth)
            .Select(level => (Expression)Expression.Call(path, substring, Expression.Constant(0), Expression.Constant(Folder.PathLengthAt(level)))));
    }

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
