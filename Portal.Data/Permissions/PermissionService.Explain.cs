using Microsoft.EntityFrameworkCore;
using Portal.Data.Folders;

namespace Portal.Data.Permissions;

/// <summary>A folder on the path from the root to the folder being looked at.</summary>
public sealed record PathFolder(Guid Id, string Name, bool InheritsFromParent);

/// <summary>
/// One permission entry on the path, as the access panel and the explain view show it.
/// <see cref="Applies"/> is false when a folder between it and the folder looked at stops inheritance.
/// </summary>
public sealed record EntryOnPath(
    Guid EntryId, Guid FolderId, string FolderPath, bool OnThisFolder, bool Applies,
    Guid? UserId, Guid? GroupId, string PrincipalName, Rights Rights);

/// <summary>Who has what on one folder and why: every entry on its path, and where inheritance stops.</summary>
public sealed record FolderAccess(Guid FolderId, string NamesPath, IReadOnlyList<PathFolder> Path, int AppliesFrom, IReadOnlyList<EntryOnPath> Entries)
{
    public PathFolder Folder => Path[^1];

    /// <summary>The folder whose "stop inheritance" cuts the entries above it off, or null when everything above applies.</summary>
    public PathFolder? StoppedAt => AppliesFrom > 0 ? Path[AppliesFrom] : null;
}

/// <summary>The answer to "can user X do Y here, and why", computed by the same rule enforcement uses.</summary>
public sealed record AccessExplanation(
    Guid UserId, string UserName, bool IsAdmin, bool IsDisabled, IReadOnlyList<string> Groups,
    FolderAccess Folder, IReadOnlyList<EntryOnPath> UserEntries, Rights Effective)
{
    public bool Allows(Rights right) => (Effective & right) == right;

    /// <summary>The chain of reasons for <paramref name="right"/>, one sentence each, most decisive first.</summary>
    public IReadOnlyList<string> Reasons(Rights right)
    {
        var reasons = new List<string>();
        if (IsDisabled) reasons.Add($"{UserName} is disabled: they cannot sign in, so they can do nothing whatever the entries say.");
        if (IsAdmin)
        {
            reasons.Add($"{UserName} has the Admin role (at their last sign-in): admins may do everything in every folder.");
            return reasons;
        }
        var granting = UserEntries.Where(e => (e.Rights & right) != 0).ToList();
        foreach (var e in granting.Where(e => e.Applies))
            reasons.Add($"Granted by {Principal(e)} on {e.FolderPath} ({Words(e.Rights)})"
                + (e.OnThisFolder ? ", this folder." : ", inherited down to this folder."));
        foreach (var e in granting.Where(e => !e.Applies))
            reasons.Add($"Not granted by {Principal(e)} on {e.FolderPath} ({Words(e.Rights)}): \"{Folder.StoppedAt?.Name}\" stops inheritance, so it does not reach here.");
        if (!granting.Any(e => e.Applies))
            reasons.Add(Folder.StoppedAt is { } stop
                ? $"No entry for {UserName} or their groups grants {right} on this folder or on the folders from \"{stop.Name}\" (which stops inheritance) down."
                : $"No entry for {UserName} or their groups grants {right} on this folder or any folder above it.");
        return reasons;
    }

    private string Principal(EntryOnPath e) => e.UserId is not null
        ? $"{UserName}'s own entry"
        : $"the entry for the group {e.PrincipalName} (of which {UserName} is a member)";

    private static string Words(Rights rights) =>
        string.Join(", ", new[] { Rights.Browse, Rights.Download, Rights.Upload, Rights.Manage }.Where(r => rights.HasFlag(r)));
}

public sealed partial class PermissionService
{
    /// <summary>Every entry on the folder's path, for the access panel; null when the folder is unknown or deleted.</summary>
    public async Task<FolderAccess?> GetFolderAccessAsync(Guid folderId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await FolderAccessAsync(db, folderId, userId: null, ct);
    }

    /// <summary>
    /// Why <paramref name="userId"/> has (or lacks) rights on a folder. The effective rights come from
    /// <see cref="EffectiveRights.Compute"/> over the same entries enforcement reads (the user's and their groups').
    /// Admin comes from the roles the user had at their last sign-in. Null when the user or the folder is unknown.
    /// </summary>
    public async Task<AccessExplanation?> ExplainAsync(Guid userId, Guid folderId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var user = await db.Users.AsNoTracking().Where(u => u.Id == userId)
            .Select(u => new { u.DisplayName, u.Roles, u.IsDisabled, Groups = u.Memberships.Select(m => m.Group!.Name).ToList() })
            .SingleOrDefaultAsync(ct);
        if (user is null) return null;
        var access = await FolderAccessAsync(db, folderId, userId, ct);
        if (access is null) return null;

        var isAdmin = user.Roles.Split(',').Contains(AdminRole);
        var effective = isAdmin
            ? Rights.All
            : EffectiveRights.Compute(access.Path.Select(f => new FolderGrants(f.InheritsFromParent,
                access.Entries.Where(e => e.FolderId == f.Id).Aggregate(Rights.None, (a, e) => a | e.Rights))).ToList());
        return new AccessExplanation(userId, user.DisplayName, isAdmin, user.IsDisabled, user.Groups, access, access.Entries, effective);
    }

    /// <summary>The role name that bypasses grants (the same string the app's role mapping produces).</summary>
    public const string AdminRole = "Admin";

    private static async Task<FolderAccess?> FolderAccessAsync(PortalDbContext db, Guid folderId, Guid? userId, CancellationToken ct)
    {
        var path = await db.Folders.AsNoTracking().Where(f => f.Id == folderId && !f.IsDeleted).Select(f => f.Path).SingleOrDefaultAsync(ct);
        if (path is null) return null;
        var ids = Folder.AncestorIdsOf(path);
        var folders = await db.Folders.AsNoTracking().Where(f => ids.Contains(f.Id))
            .Select(f => new PathFolder(f.Id, f.Name, f.InheritPermissions)).ToDictionaryAsync(f => f.Id, ct);
        var onPath = ids.Select(id => folders.TryGetValue(id, out var f) ? f : new PathFolder(id, "?", false)).ToList();
        var appliesFrom = EffectiveRights.AppliesFrom(onPath, f => f.InheritsFromParent);

        var entries = db.PermissionEntries.AsNoTracking().Where(p => ids.Contains(p.FolderId));
        if (userId is { } uid)
            entries = entries.Where(p => p.UserId == uid
                || (p.GroupId != null && db.GroupMemberships.Any(m => m.UserId == uid && m.GroupId == p.GroupId)));
        var rows = await entries
            .Select(p => new { p.Id, p.FolderId, p.UserId, p.GroupId, p.Rights, UserName = p.User!.DisplayName, UserEmail = p.User.Email, GroupName = p.Group!.Name })
            .ToListAsync(ct);

        string PathTo(int index) => "/" + string.Join('/', onPath.Take(index + 1).Select(f => f.Name));
        var depth = ids.Select((id, i) => (id, i)).ToDictionary(x => x.id, x => x.i);
        var list = rows
            .Select(r => new EntryOnPath(r.Id, r.FolderId, PathTo(depth[r.FolderId]), r.FolderId == folderId, depth[r.FolderId] >= appliesFrom,
                r.UserId, r.GroupId, r.UserId is not null ? (r.UserEmail is { Length: > 0 } ? $"{r.UserName} <{r.UserEmail}>" : r.UserName) : r.GroupName ?? "?", r.Rights))
            .OrderBy(e => depth[e.FolderId]).ThenBy(e => e.GroupId is null).ThenBy(e => e.PrincipalName, StringComparer.CurrentCultureIgnoreCase)
            .ToList();
        return new FolderAccess(folderId, PathTo(onPath.Count - 1), onPath, appliesFrom, list);
    }
}
