using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Data.Audit;
using Portal.Data.Database;
using Portal.Data.Folders;
using Portal.Data.Permissions;

namespace Portal.App.Folders;

/// <summary>
/// Create, rename, move and delete folders. The folder page and the HTTP endpoints both call these, so the Manage
/// right is checked here on the server whatever the UI showed; every attempt is an audit event (a change with its
/// before/after, a refusal with its reason).
/// </summary>
public sealed class FolderOperations(
    IDbContextFactory<PortalDbContext> contexts, PermissionService permissions, AuditLog audit, TimeProvider clock,
    FolderNameLock names, ILogger<FolderOperations> log)
{
    /// <summary>A new folder under <paramref name="parentId"/> (Manage there), or at the top (admins only).</summary>
    public async Task<OperationResult> CreateAsync(Caller caller, Guid? parentId, string name, CancellationToken ct = default)
    {
        if (caller.Actor is not { } actor) return OperationResult.Forbidden("Sign in first.");
        await using var db = await contexts.CreateDbContextAsync(ct);
        Folder? parent = null;
        if (parentId is { } pid)
        {
            parent = await db.Folders.SingleOrDefaultAsync(f => f.Id == pid && !f.IsDeleted, ct);
            if (parent is null) return OperationResult.NotFound("The folder to create it in does not exist or was deleted.");
        }
        if (!await MayManageAsync(actor, parentId, ct))
            return await RefuseAsync(caller, AuditAction.FolderCreated, parentId, name,
                parentId is null ? "Only administrators create top-level folders" : "No Manage right on the parent folder", ct);
        if (FolderNames.Problem(name) is { } problem) return OperationResult.Invalid(problem);

        var id = Guid.CreateVersion7(clock.GetUtcNow());
        var folder = new Folder { Id = id, ParentId = parentId, Name = name, Path = Folder.ChildPath(parent?.Path, id) };
        // The check and the insert take turns with every other naming (two admins creating "Reports" at once get one).
        var created = await audit.CommitWithChangeAsync(db, change => names.WriteIfFreeAsync(db, parentId, name, null, async () =>
        {
            db.Folders.Add(folder);
            await db.SaveChangesAsync(ct);
            change.Record(await ChangeEventAsync(db, caller, AuditAction.FolderCreated, folder, null, new { name, parentId }, ct));
        }, ct), ct);
        if (!created) return OperationResult.Conflict($"A folder named \"{name}\" already exists here.");
        return OperationResult.Done(id);
    }

    public async Task<OperationResult> RenameAsync(Caller caller, Guid folderId, string name, CancellationToken ct = default)
    {
        if (caller.Actor is not { } actor) return OperationResult.Forbidden("Sign in first.");
        await using var db = await contexts.CreateDbContextAsync(ct);
        var folder = await db.Folders.SingleOrDefaultAsync(f => f.Id == folderId && !f.IsDeleted, ct);
        if (folder is null) return OperationResult.NotFound("The folder does not exist or was deleted.");
        if (!await MayManageAsync(actor, folderId, ct))
            return await RefuseAsync(caller, AuditAction.FolderRenamed, folderId, folder.Name, "No Manage right on the folder", ct);
        if (FolderNames.Problem(name) is { } problem) return OperationResult.Invalid(problem);
        if (name == folder.Name) return OperationResult.Done(folderId);

        var before = folder.Name;
        var renamed = await audit.CommitWithChangeAsync(db, change => names.WriteIfFreeAsync(db, folder.ParentId, name, folderId, async () =>
        {
            folder.Name = name;
            await db.SaveChangesAsync(ct);
            change.Record(await ChangeEventAsync(db, caller, AuditAction.FolderRenamed, folder, new { name = before }, new { name }, ct));
        }, ct), ct);
        if (!renamed) return OperationResult.Conflict($"A folder named \"{name}\" already exists here.");
        return OperationResult.Done(folderId);
    }

    /// <summary>
    /// Moves a folder (and everything below it) under <paramref name="newParentId"/>, or to the top (admins only).
    /// Needs Manage on the folder and on the destination; never into the folder itself or below it.
    /// </summary>
    public async Task<OperationResult> MoveAsync(Caller caller, Guid folderId, Guid? newParentId, CancellationToken ct = default)
    {
        if (caller.Actor is not { } actor) return OperationResult.Forbidden("Sign in first.");
        await using var db = await contexts.CreateDbContextAsync(ct);
        var folder = await db.Folders.SingleOrDefaultAsync(f => f.Id == folderId && !f.IsDeleted, ct);
        if (folder is null) return OperationResult.NotFound("The folder does not exist or was deleted.");
        Folder? target = null;
        if (newParentId is { } tid)
        {
            target = await db.Folders.SingleOrDefaultAsync(f => f.Id == tid && !f.IsDeleted, ct);
            if (target is null) return OperationResult.NotFound("The destination folder does not exist or was deleted.");
        }
        if (!await MayManageAsync(actor, folderId, ct))
            return await RefuseAsync(caller, AuditAction.FolderMoved, folderId, folder.Name, "No Manage right on the folder", ct);
        if (!await MayManageAllBelowAsync(db, actor, folder, ct))
            return await RefuseAsync(caller, AuditAction.FolderMoved, folderId, folder.Name, "No Manage right on every folder below it", ct);
        if (!await MayManageAsync(actor, newParentId, ct))
            return await RefuseAsync(caller, AuditAction.FolderMoved, folderId, folder.Name,
                newParentId is null ? "Only administrators move folders to the top level" : "No Manage right on the destination folder", ct);
        if (target is not null && target.Path.StartsWith(folder.Path, StringComparison.Ordinal))
            return OperationResult.Invalid("A folder cannot be moved into itself or into one of its own subfolders.");
        if (folder.ParentId == newParentId) return OperationResult.Done(folderId);

        var beforeNames = (await PermissionService.PathAccessAsync(db, actor, folder.Path, ct)).NamesPath;
        var oldPrefix = folder.Path;
        var oldParentId = folder.ParentId;
        var newPrefix = Folder.ChildPath(target?.Path, folder.Id);
        var moved = await audit.CommitWithChangeAsync(db, change => names.WriteIfFreeAsync(db, newParentId, folder.Name, folderId, async () =>
        {
            // The whole subtree's materialised paths change with it (deleted folders too, so a restore lands right).
            var subtree = await db.Folders.Where(f => f.Path.StartsWith(oldPrefix)).ToListAsync(ct);
            foreach (var f in subtree) f.Path = newPrefix + f.Path[oldPrefix.Length..];
            folder.ParentId = newParentId;
            await db.SaveChangesAsync(ct);
            var afterNames = (await PermissionService.PathAccessAsync(db, actor, folder.Path, ct)).NamesPath;
            change.Record(await ChangeEventAsync(db, caller, AuditAction.FolderMoved, folder,
                new { parentId = oldParentId, path = beforeNames },
                new { parentId = newParentId, path = afterNames }, ct));
        }, ct), ct);
        if (!moved) return OperationResult.Conflict($"The destination already has a folder named \"{folder.Name}\".");
        log.LogInformation("Moved folder {FolderId} under {ParentId}", folderId, newParentId);
        return OperationResult.Done(folderId);
    }

    /// <summary>
    /// What deleting a folder would put in the bin besides the folder, as far as <paramref name="actor"/> may see it: the
    /// live subfolders they may browse and the documents in those (and in the folder). A folder that stops inheritance
    /// where they have no right is not counted, so the question never tells them it is there.
    /// </summary>
    public async Task<(int Folders, int Documents)> CountContentsAsync(Actor actor, Guid folderId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var path = await db.Folders.Where(f => f.Id == folderId).Select(f => f.Path).SingleOrDefaultAsync(ct);
        if (path is null) return (0, 0);
        var subtree = await db.Folders.Where(f => f.Path.StartsWith(path) && !f.IsDeleted).Select(f => f.Id).ToListAsync(ct);
        var rights = actor.IsAdmin ? null : await permissions.GetRightsOnAllFoldersAsync(actor, ct);
        var seen = subtree.Where(id => rights is null || rights.GetValueOrDefault(id).HasFlag(Rights.Browse)).ToList();
        var documents = await db.Documents.CountAsync(d => seen.Contains(d.FolderId) && !d.IsDeleted, ct);
        return (seen.Count(id => id != folderId), documents);
    }

    /// <summary>
    /// Puts the folder and everything below it in the bin. A folder that is not empty is only deleted when
    /// <paramref name="includingContents"/> says the person was asked and agreed.
    /// </summary>
    public async Task<OperationResult> DeleteAsync(Caller caller, Guid folderId, bool includingContents, CancellationToken ct = default)
    {
        if (caller.Actor is not { } actor) return OperationResult.Forbidden("Sign in first.");
        await using var db = await contexts.CreateDbContextAsync(ct);
        var folder = await db.Folders.SingleOrDefaultAsync(f => f.Id == folderId && !f.IsDeleted, ct);
        if (folder is null) return OperationResult.NotFound("The folder does not exist or was already deleted.");
        if (!await MayManageAsync(actor, folderId, ct))
            return await RefuseAsync(caller, AuditAction.FolderDeleted, folderId, folder.Name, "No Manage right on the folder", ct);
        if (!await MayManageAllBelowAsync(db, actor, folder, ct))
            return await RefuseAsync(caller, AuditAction.FolderDeleted, folderId, folder.Name, "No Manage right on every folder below it", ct);
        if (!includingContents && (await db.Folders.AnyAsync(f => f.Path.StartsWith(folder.Path) && f.Id != folderId && !f.IsDeleted, ct)
                                   || await db.Documents.AnyAsync(d => d.Folder!.Path.StartsWith(folder.Path) && !d.IsDeleted, ct)))
        {
            var (seenFolders, seenDocuments) = await CountContentsAsync(actor, folderId, ct);
            return OperationResult.Conflict($"\"{folder.Name}\" holds {seenFolders} folder(s) and {seenDocuments} document(s). Confirm to move all of it to the bin.");
        }

        var names = (await PermissionService.PathAccessAsync(db, actor, folder.Path, ct)).NamesPath;
        var deletion = Guid.CreateVersion7(clock.GetUtcNow());
        var now = clock.GetUtcNow();
        var prefix = folder.Path;
        await audit.CommitWithChangeAsync(db, async change =>
        {
            // Only what is live now joins this deletion: things deleted earlier keep their own bin entries.
            // The record counts what was binned (all of it; the caller's question counted only what they may see).
            var folders = await db.Folders.Where(f => f.Path.StartsWith(prefix) && !f.IsDeleted).ExecuteUpdateAsync(s => s
                .SetProperty(f => f.IsDeleted, true).SetProperty(f => f.DeletionId, deletion)
                .SetProperty(f => f.DeletedAt, now).SetProperty(f => f.DeletedByUserId, actor.UserId), ct) - 1;
            var documents = await db.Documents.Where(d => d.Folder!.Path.StartsWith(prefix) && !d.IsDeleted).ExecuteUpdateAsync(s => s
                .SetProperty(d => d.IsDeleted, true).SetProperty(d => d.DeletionId, deletion)
                .SetProperty(d => d.DeletedAt, now).SetProperty(d => d.DeletedByUserId, actor.UserId), ct);
            var record = caller.Audit(AuditAction.FolderDeleted, AuditOutcome.Allowed, folders + documents > 0 ? $"With {folders} folder(s) and {documents} document(s)" : null);
            (record.FolderId, record.TargetName, record.TargetPath) = (folderId, folder.Name, names);
            record.Changes = AuditChanges.Of(new { deleted = false }, new { deleted = true, deletionId = deletion, folders, documents });
            change.Record(record);
            return deletion;
        }, ct);
        return OperationResult.Done(deletion);
    }

    /// <summary>
    /// Manage on every live folder below <paramref name="folder"/>: a subfolder that stops inheritance where the caller
    /// has no right is not theirs to bin or carry away with its parent.
    /// </summary>
    private async Task<bool> MayManageAllBelowAsync(PortalDbContext db, Actor actor, Folder folder, CancellationToken ct)
    {
        if (actor.IsAdmin) return true;
        var below = await db.Folders.Where(f => f.Path.StartsWith(folder.Path) && f.Id != folder.Id && !f.IsDeleted).Select(f => f.Id).ToListAsync(ct);
        var rights = await permissions.GetRightsOnAllFoldersAsync(actor, ct);
        return below.All(id => rights.GetValueOrDefault(id).HasFlag(Rights.Manage));
    }

    /// <summary>Manage on the folder; the top level (null) is for administrators only.</summary>
    private async Task<bool> MayManageAsync(Actor actor, Guid? folderId, CancellationToken ct) =>
        folderId is { } id ? (await permissions.GetRightsAsync(actor, id, ct)).HasFlag(Rights.Manage) : actor.IsAdmin;

    private async Task<OperationResult> RefuseAsync(Caller caller, AuditAction action, Guid? folderId, string? name, string reason, CancellationToken ct)
    {
        var record = caller.Audit(action, AuditOutcome.Denied, reason);
        (record.FolderId, record.TargetName) = (folderId, name);
        await using (var db = await contexts.CreateDbContextAsync(ct))
            if (await db.Folders.Where(f => f.Id == folderId).Select(f => f.Path).SingleOrDefaultAsync(ct) is { } path)
                record.TargetPath = (await PermissionService.PathAccessAsync(db, new Actor(Guid.Empty, true), path, ct)).NamesPath;
        await audit.AppendAsync(record, ct);
        log.LogInformation("{Action} refused for {UserId}: {Reason}", action, caller.Actor?.UserId, reason);
        return OperationResult.Forbidden("You may not do that here: " + reason[..1].ToLowerInvariant() + reason[1..] + ".");
    }

    /// <summary>The event of a change to <paramref name="folder"/>, read in the change's transaction.</summary>
    private static async Task<AuditEvent> ChangeEventAsync(PortalDbContext db, Caller caller, AuditAction action, Folder folder, object? before, object? after, CancellationToken ct)
    {
        var record = caller.Audit(action, AuditOutcome.Allowed);
        record.FolderId = folder.Id;
        record.TargetName = folder.Name;
        record.TargetPath = (await PermissionService.PathAccessAsync(db, new Actor(Guid.Empty, true), folder.Path, ct)).NamesPath;
        record.Changes = AuditChanges.Of(before, after);
        return record;
    }
}
