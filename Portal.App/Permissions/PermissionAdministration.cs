using System.Security.Claims;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Portal.App.Audit;
using Portal.App.Auth;
using Portal.Data;
using Portal.Data.Audit;
using Portal.Data.Database;
using Portal.Data.Folders;
using Portal.Data.Permissions;

namespace Portal.App.Permissions;

/// <summary>Who an entry is for: a user (by portal id, email or subject) or a group (by its name in the groups claim).</summary>
public sealed record GrantTo(string? User, string? Group);

/// <summary>An entry as the editor and the API show it.</summary>
public sealed record PermissionEntryView(Guid Id, Guid FolderId, string Kind, Guid PrincipalId, string PrincipalName, IReadOnlyList<string> Rights);

/// <summary>
/// Grants, changes and revokes permission entries and switches inheritance, for the access page and the HTTP API
/// alike, so both obey the same checks. Who may: an Admin anywhere; anyone else only where their effective rights
/// include Manage (so Manage on a folder covers its subtree, down to a folder that stops inheritance). Every change
/// is an audit event with what it was before and after, committed in the change's own transaction
/// (<see cref="AuditLog.CommitWithChangeAsync{T}"/>: both or neither); refused attempts are recorded too.
/// </summary>
public sealed partial class PermissionAdministration(
    IDbContextFactory<PortalDbContext> contexts, PermissionService permissions, AuditLog audit, TimeProvider clock,
    PermissionGrantLock grantLock, ILogger<PermissionAdministration> log)
{
    /// <summary>Who has what on the folder and why. Needs Manage there (or Admin).</summary>
    public async Task<AdminResult<FolderAccess>> GetAccessAsync(ClaimsPrincipal caller, Guid folderId, CancellationToken ct = default)
    {
        if (await RefusalAsync<FolderAccess>(caller, folderId, "see who has access to this folder", ct) is { } refused) return refused;
        var access = await permissions.GetFolderAccessAsync(folderId, ct);
        return access is null ? AdminResult<FolderAccess>.NotFound("This folder does not exist.") : AdminResult<FolderAccess>.Done(access);
    }

    /// <summary>
    /// Gives <paramref name="to"/> rights on the folder; when they already have an entry there, it is changed.
    /// One grant at a time (<see cref="PermissionGrantLock"/>, in this instance and across instances on a database
    /// server): two grants for the same folder and principal must not both find no entry and both record "granted";
    /// the second one waits, then finds the first one's entry and becomes a change (or "nothing changed").
    /// </summary>
    public async Task<AdminResult<PermissionEntryView>> GrantAsync(ClaimsPrincipal caller, HttpContext? http, Guid folderId, GrantTo to, Rights rights, CancellationToken ct = default)
    {
        if (await RefusalAsync<PermissionEntryView>(caller, folderId, "change permissions on this folder", ct, http, AuditAction.PermissionGranted) is { } refused) return refused;
        if (RightsProblem(rights) is { } problem) return AdminResult<PermissionEntryView>.Invalid(problem);

        await using var db = await contexts.CreateDbContextAsync(ct);
        (AdminResult<PermissionEntryView>? Result, Guid? Existing) granted;
        try
        {
            granted = await audit.CommitWithChangeAsync(db, change => grantLock.RunAsync(db, () => GrantHoldingLockAsync(db, change, caller, http, folderId, to, rights, ct), ct), ct);
        }
        catch (DbUpdateException e)
        {
            // Another app instance (on SQLite, or one without the lock) added the entry since we looked, and the unique
            // index refused a second one: nothing of this grant was committed, and it becomes a change of that entry
            // (recorded only if it changes anything).
            await using var reread = await contexts.CreateDbContextAsync(ct);
            var principal = await FindPrincipalAsync(reread, to, ct);
            var theirs = await reread.PermissionEntries.AsNoTracking().Where(p => p.FolderId == folderId
                && (principal.IsGroup ? p.GroupId == principal.Id : p.UserId == principal.Id)).Select(p => (Guid?)p.Id).SingleOrDefaultAsync(ct);
            if (theirs is null) throw;
            log.LogWarning(e, "Permission on {FolderId} was granted concurrently elsewhere; changing entry {EntryId} instead", folderId, theirs);
            return await ChangeAsync(caller, http, theirs.Value, rights, ct);
        }
        return granted.Existing is { } existing ? await ChangeAsync(caller, http, existing, rights, ct) : granted.Result!;
    }

    /// <summary>A new entry, or the id of the entry the principal already has there (then the grant is a change).</summary>
    private async Task<(AdminResult<PermissionEntryView>?, Guid?)> GrantHoldingLockAsync(PortalDbContext db, AuditedChange change, ClaimsPrincipal caller,
        HttpContext? http, Guid folderId, GrantTo to, Rights rights, CancellationToken ct)
    {
        var folder = await LiveFolderAsync(db, folderId, ct);
        if (folder is null) return (AdminResult<PermissionEntryView>.NotFound("This folder does not exist."), null);
        var principal = await FindPrincipalAsync(db, to, ct);
        if (principal.Problem is not null) return (AdminResult<PermissionEntryView>.Invalid(principal.Problem), null);

        var existing = await db.PermissionEntries.AsNoTracking().Where(p => p.FolderId == folderId
            && (principal.IsGroup ? p.GroupId == principal.Id : p.UserId == principal.Id)).Select(p => (Guid?)p.Id).SingleOrDefaultAsync(ct);
        if (existing is not null) return (null, existing);

        var entry = new PermissionEntry
        {
            Id = Guid.CreateVersion7(clock.GetUtcNow()), FolderId = folderId, Rights = rights,
            UserId = principal.IsGroup ? null : principal.Id, GroupId = principal.IsGroup ? principal.Id : null,
        };
        db.PermissionEntries.Add(entry);
        await db.SaveChangesAsync(ct);
        change.Record(await ChangeEventAsync(db, caller, http, AuditAction.PermissionGranted, folder, $"Granted {rights} to {principal.Describe}",
            before: null, after: EntryState(principal, rights), ct));
        log.LogInformation("Permission {EntryId} granted on {FolderId}: {Rights}", entry.Id, folderId, rights);
        return (AdminResult<PermissionEntryView>.Done(View(entry, principal), $"Granted {Words(rights)} to {principal.Describe}."), null);
    }

    /// <summary>Sets the rights of an existing entry.</summary>
    public async Task<AdminResult<PermissionEntryView>> ChangeAsync(ClaimsPrincipal caller, HttpContext? http, Guid entryId, Rights rights, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var entry = await db.PermissionEntries.Include(p => p.User).Include(p => p.Group).SingleOrDefaultAsync(p => p.Id == entryId, ct);
        if (entry is null) return await NoSuchEntryAsync<PermissionEntryView>(caller, ct);
        if (await RefusalAsync<PermissionEntryView>(caller, entry.FolderId, "change permissions on this folder", ct, http, AuditAction.PermissionChanged) is { } refused) return refused;
        if (RightsProblem(rights) is { } problem) return AdminResult<PermissionEntryView>.Invalid(problem);
        var folder = await LiveFolderAsync(db, entry.FolderId, ct);
        if (folder is null) return AdminResult<PermissionEntryView>.NotFound("This folder does not exist.");

        var principal = Principal.Of(entry);
        if (entry.Rights == rights) return AdminResult<PermissionEntryView>.Done(View(entry, principal), "Nothing changed.");
        await audit.CommitWithChangeAsync(db, async change =>
        {
            change.Record(await ChangeEventAsync(db, caller, http, AuditAction.PermissionChanged, folder, $"Changed {principal.Describe} from {entry.Rights} to {rights}",
                before: EntryState(principal, entry.Rights), after: EntryState(principal, rights), ct));
            entry.Rights = rights;
            return true;
        }, ct);
        return AdminResult<PermissionEntryView>.Done(View(entry, principal), $"{principal.Describe} now has {Words(rights)}.");
    }

    /// <summary>Removes an entry.</summary>
    public async Task<AdminResult<PermissionEntryView>> RevokeAsync(ClaimsPrincipal caller, HttpContext? http, Guid entryId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var entry = await db.PermissionEntries.Include(p => p.User).Include(p => p.Group).SingleOrDefaultAsync(p => p.Id == entryId, ct);
        if (entry is null) return await NoSuchEntryAsync<PermissionEntryView>(caller, ct);
        if (await RefusalAsync<PermissionEntryView>(caller, entry.FolderId, "change permissions on this folder", ct, http, AuditAction.PermissionRevoked) is { } refused) return refused;
        var folder = await LiveFolderAsync(db, entry.FolderId, ct);
        if (folder is null) return AdminResult<PermissionEntryView>.NotFound("This folder does not exist.");

        var principal = Principal.Of(entry);
        await audit.CommitWithChangeAsync(db, async change =>
        {
            change.Record(await ChangeEventAsync(db, caller, http, AuditAction.PermissionRevoked, folder, $"Revoked {entry.Rights} from {principal.Describe}",
                before: EntryState(principal, entry.Rights), after: null, ct));
            db.PermissionEntries.Remove(entry);
            return true;
        }, ct);
        return AdminResult<PermissionEntryView>.Done(View(entry, principal), $"Removed the entry for {principal.Describe}.");
    }

    /// <summary>Makes the folder inherit (or stop inheriting) the permissions of the folders above it.</summary>
    public async Task<AdminResult<bool>> SetInheritanceAsync(ClaimsPrincipal caller, HttpContext? http, Guid folderId, bool inherit, CancellationToken ct = default)
    {
        if (await RefusalAsync<bool>(caller, folderId, "change permissions on this folder", ct, http, AuditAction.InheritanceChanged) is { } refused) return refused;
        await using var db = await contexts.CreateDbContextAsync(ct);
        var folder = await LiveFolderAsync(db, folderId, ct);
        if (folder is null) return AdminResult<bool>.NotFound("This folder does not exist.");
        if (folder.InheritPermissions == inherit) return AdminResult<bool>.Done(inherit, "Nothing changed.");
        if (folder.ParentId is null && !inherit)
            return AdminResult<bool>.Invalid("A top-level folder has nothing above it to inherit from.");

        // Stopping inheritance must not lock out the manager doing it: they keep Manage only through a grant here.
        var actor = caller.ToActor()!;
        if (!inherit && !actor.IsAdmin)
        {
            var explained = await permissions.ExplainAsync(actor.UserId, folderId, ct);
            if (explained is null || !explained.UserEntries.Any(e => e.OnThisFolder && e.Rights.HasFlag(Rights.Manage)))
                return AdminResult<bool>.Invalid("Stopping inheritance here would take away your own Manage right on this folder. Grant yourself (or a group of yours) Manage on this folder first.");
        }

        await audit.CommitWithChangeAsync(db, async change =>
        {
            change.Record(await ChangeEventAsync(db, caller, http, AuditAction.InheritanceChanged, folder,
                inherit ? "Inherits permissions from the folders above again" : "Stopped inheriting permissions from the folders above",
                before: new { inheritPermissions = folder.InheritPermissions }, after: new { inheritPermissions = inherit }, ct));
            folder.InheritPermissions = inherit;
            return true;
        }, ct);
        return AdminResult<bool>.Done(inherit, inherit ? "This folder inherits permissions again." : "This folder no longer inherits permissions.");
    }

    /// <summary>True when the caller may manage the folder: Admin, or Manage among their effective rights there.</summary>
    public async Task<bool> MayManageAsync(ClaimsPrincipal caller, Guid folderId, CancellationToken ct = default) =>
        caller.ToActor() is { } actor && (await permissions.GetRightsAsync(actor, folderId, ct)).HasFlag(Rights.Manage);

    private async Task<AdminResult<T>?> RefusalAsync<T>(ClaimsPrincipal caller, Guid folderId, string what, CancellationToken ct,
        HttpContext? http = null, AuditAction? recordAs = null)
    {
        var actor = caller.ToActor();
        if (actor is null) return AdminResult<T>.Forbidden("Sign in first.");
        if ((await permissions.GetRightsAsync(actor, folderId, ct)).HasFlag(Rights.Manage)) return null;
        if (recordAs is { } action)
        {
            var denied = AuditEventFactory.For(caller, action, AuditOutcome.Denied, "No Manage right on the folder", http);
            denied.FolderId = folderId;
            await using (var db = await contexts.CreateDbContextAsync(ct))
                if (await LiveFolderAsync(db, folderId, ct) is { } folder)
                    (denied.TargetName, denied.TargetPath) = (folder.Name, (await PermissionService.PathAccessAsync(db, new Actor(Guid.Empty, true), folder.Path, ct)).NamesPath);
            await audit.AppendAsync(denied, ct);
        }
        log.LogInformation("{UserId} may not {What} ({FolderId})", actor.UserId, what, folderId);
        return AdminResult<T>.Forbidden($"You may not {what}: it needs the Manage right here.");
    }

    /// <summary>An unknown entry: admins learn it does not exist; others learn nothing more than "not allowed".</summary>
    private static Task<AdminResult<T>> NoSuchEntryAsync<T>(ClaimsPrincipal caller, CancellationToken ct) =>
        Task.FromResult(caller.ToActor() is { IsAdmin: true }
            ? AdminResult<T>.NotFound("This permission entry does not exist (it may have been removed meanwhile).")
            : AdminResult<T>.Forbidden("You may not change this permission entry."));

    private static Task<Folder?> LiveFolderAsync(PortalDbContext db, Guid folderId, CancellationToken ct) =>
        db.Folders.SingleOrDefaultAsync(f => f.Id == folderId && !f.IsDeleted, ct);

    internal static string? RightsProblem(Rights rights) =>
        rights == Rights.None ? "Tick at least one right (to take every right away, remove the entry)."
        : (rights & ~Rights.All) != 0 ? "Unknown rights: only Browse, Download, Upload and Manage exist."
        : null;

    /// <summary>"Browse, Download" from the names people send; null when a name is not a right.</summary>
    public static Rights? ParseRights(IEnumerable<string>? names)
    {
        var rights = Rights.None;
        foreach (var name in names ?? [])
        {
            if (!Enum.TryParse<Rights>(name, ignoreCase: true, out var r) || r is Rights.None or Rights.All || !Enum.IsDefined(r) || int.TryParse(name, out _))
                return null;
            rights |= r;
        }
        return rights;
    }

    public static IReadOnlyList<string> Names(Rights rights) =>
        new[] { Rights.Browse, Rights.Download, Rights.Upload, Rights.Manage }.Where(r => rights.HasFlag(r)).Select(r => r.ToString()).ToList();

    private static string Words(Rights rights) => string.Join(", ", Names(rights));

    /// <summary>The event of a change on <paramref name="folder"/>, read in the change's transaction.</summary>
    private static async Task<AuditEvent> ChangeEventAsync(PortalDbContext db, ClaimsPrincipal caller, HttpContext? http, AuditAction action, Folder folder, string reason,
        object? before, object? after, CancellationToken ct)
    {
        var record = AuditEventFactory.For(caller, action, AuditOutcome.Allowed, reason, http);
        record.FolderId = folder.Id;
        record.TargetName = folder.Name;
        record.TargetPath = (await PermissionService.PathAccessAsync(db, new Actor(Guid.Empty, true), folder.Path, ct)).NamesPath;
        record.Changes = JsonSerializer.Serialize(new { before, after });
        return record;
    }

    private static object EntryState(Principal principal, Rights rights) => new
    {
        principal = principal.IsGroup ? "group" : "user",
        principalId = principal.Id,
        name = principal.Name,
        rights = Names(rights),
    };

    private static PermissionEntryView View(PermissionEntry e, Principal p) =>
        new(e.Id, e.FolderId, p.IsGroup ? "group" : "user", p.Id, p.Name, Names(e.Rights));

    private sealed record Principal(bool IsGroup, Guid Id, string Name, string? Problem = null)
    {
        public string Describe => IsGroup ? $"the group {Name}" : Name;

        public static Principal Of(PermissionEntry e) => e.GroupId is { } g
            ? new Principal(true, g, e.Group?.Name ?? "?")
            : new Principal(false, e.UserId!.Value, e.User?.DisplayName ?? "?");
    }

    private static async Task<Principal> FindPrincipalAsync(PortalDbContext db, GrantTo to, CancellationToken ct)
    {
        var user = to.User?.Trim();
        var group = to.Group?.Trim();
        if (string.IsNullOrEmpty(user) == string.IsNullOrEmpty(group))
            return new Principal(false, Guid.Empty, "", "Say who the entry is for: one user or one group.");
        if (!string.IsNullOrEmpty(group))
        {
            var g = await db.Groups.AsNoTracking().SingleOrDefaultAsync(x => x.Name == group, ct);
            return g is null
                ? new Principal(true, Guid.Empty, group, $"No group named \"{group}\" is known. Groups become known when a member signs in with it in their groups claim; check the spelling.")
                : new Principal(true, g.Id, g.Name);
        }
        var byId = Guid.TryParse(user, out var id);
        var matches = await db.Users.AsNoTracking()
            .Where(u => (byId && u.Id == id) || (u.Email == user && u.EmailVerified) || u.Subject == user)
            .Select(u => new { u.Id, u.DisplayName }).Take(2).ToListAsync(ct);
        return matches.Count switch
        {
            1 => new Principal(false, matches[0].Id, matches[0].DisplayName),
            0 => new Principal(false, Guid.Empty, user!, $"No user \"{user}\" is known. People become known when they first sign in; ask them to sign in once, then grant."),
            _ => new Principal(false, Guid.Empty, user!, $"More than one user matches \"{user}\"; pick them from the list instead."),
        };
    }
}
