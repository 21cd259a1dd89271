using Microsoft.EntityFrameworkCore;
using Portal.App.Documents;
using Portal.Data;
using Portal.Data.Audit;
using Portal.Data.Database;
using Portal.Data.Folders;
using Portal.Data.Permissions;

namespace Portal.App.Folders;

/// <summary>One thing in the bin: a deleted folder (with what was deleted along with it) or a deleted document.</summary>
public sealed record BinEntry(Guid DeletionId, bool IsFolder, Guid ItemId, string Name, string FromPath, DateTimeOffset? DeletedAt, string? DeletedBy, int ItemCount);

/// <summary>
/// The bin: deleted folders and documents, which administrators restore or remove for good. Emptying deletes the
/// rows and the stored bytes, but bytes only when no other document or version still uses the same content.
/// </summary>
public sealed class RecycleBin(
    IDbContextFactory<PortalDbContext> contexts, DocumentStorage storage, AuditLog audit, FolderNameLock names,
    DocumentNameLock documentNames, ILogger<RecycleBin> log)
{
    /// <summary>What is in the bin, newest first: one entry per delete (a folder and its contents are one entry).</summary>
    public async Task<IReadOnlyList<BinEntry>> ListAsync(Caller caller, CancellationToken ct = default)
    {
        if (caller.Actor is not { IsAdmin: true }) return [];
        await using var db = await contexts.CreateDbContextAsync(ct);
        // A folder is an entry when its parent was not deleted by the same delete; likewise a document and its folder.
        var folders = await db.Folders.AsNoTracking()
            .Where(f => f.IsDeleted && (f.Parent == null || f.Parent.DeletionId != f.DeletionId || f.Parent.DeletionId == null))
            .Select(f => new { f.Id, f.DeletionId, f.Name, f.Path, f.DeletedAt, f.DeletedByUserId,
                Count = db.Folders.Count(c => c.DeletionId == f.DeletionId) - 1 + db.Documents.Count(d => d.DeletionId == f.DeletionId) })
            .ToListAsync(ct);
        var documents = await db.Documents.AsNoTracking()
            .Where(d => d.IsDeleted && (d.Folder!.DeletionId == null || d.Folder.DeletionId != d.DeletionId))
            .Select(d => new { d.Id, d.DeletionId, d.DisplayName, d.Folder!.Path, d.DeletedAt, d.DeletedByUserId })
            .ToListAsync(ct);

        var folderIds = folders.SelectMany(f => Folder.AncestorIdsOf(f.Path)).Concat(documents.SelectMany(d => Folder.AncestorIdsOf(d.Path))).Distinct().ToList();
        var names = await db.Folders.Where(f => folderIds.Contains(f.Id)).ToDictionaryAsync(f => f.Id, f => f.Name, ct);
        var userIds = folders.Select(f => f.DeletedByUserId).Concat(documents.Select(d => d.DeletedByUserId)).OfType<Guid>().Distinct().ToList();
        var users = await db.Users.Where(u => userIds.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.DisplayName, ct);
        string PathOf(IEnumerable<Guid> ids) => "/" + string.Join('/', ids.Select(i => names.GetValueOrDefault(i, "?")));
        string? By(Guid? id) => id is { } u ? users.GetValueOrDefault(u) : null;

        return folders.Where(f => f.DeletionId is not null)
            .Select(f => new BinEntry(f.DeletionId!.Value, true, f.Id, f.Name, PathOf(Folder.AncestorIdsOf(f.Path).SkipLast(1)), f.DeletedAt, By(f.DeletedByUserId), f.Count))
            .Concat(documents.Where(d => d.DeletionId is not null)
                .Select(d => new BinEntry(d.DeletionId!.Value, false, d.Id, d.DisplayName, PathOf(Folder.AncestorIdsOf(d.Path)), d.DeletedAt, By(d.DeletedByUserId), 0)))
            .OrderByDescending(e => e.DeletedAt).ToList();
    }

    /// <summary>Brings back everything one delete put in the bin, where it was. Admins only.</summary>
    public async Task<OperationResult> RestoreAsync(Caller caller, Guid deletionId, CancellationToken ct = default)
    {
        if (caller.Actor is not { } actor) return OperationResult.Forbidden("Sign in first.");
        if (!actor.IsAdmin) return await RefuseAsync(caller, AuditAction.FolderRestored, "Only administrators restore from the bin", ct);
        await using var db = await contexts.CreateDbContextAsync(ct);
        var folders = await db.Folders.Where(f => f.DeletionId == deletionId && f.IsDeleted).OrderBy(f => f.Path.Length).ToListAsync(ct);
        var documents = await db.Documents.Include(d => d.Folder).Where(d => d.DeletionId == deletionId && d.IsDeleted).ToListAsync(ct);
        if (folders.Count == 0 && documents.Count == 0) return OperationResult.NotFound("Nothing in the bin has this id.");

        // The place it goes back to must exist: a folder deleted separately afterwards has to be restored first.
        var top = folders.FirstOrDefault();
        var restoredIds = folders.Select(f => f.Id).ToHashSet();
        var parentDeleted = top is not null
            ? top.ParentId is { } p && await db.Folders.AnyAsync(f => f.Id == p && f.IsDeleted, ct)
            : documents.Any(d => d.Folder!.IsDeleted && !restoredIds.Contains(d.FolderId));
        if (parentDeleted) return OperationResult.Conflict("The folder it was in is in the bin too. Restore that folder first.");

        // A folder comes back under its name only if no live folder there took that name meanwhile (checked and
        // restored in turn with every other naming): the person renames one of them first. The event is committed with it.
        async Task BringBack(AuditedChange change)
        {
            foreach (var f in folders) (f.IsDeleted, f.DeletionId, f.DeletedAt, f.DeletedByUserId) = (false, null, null, null);
            foreach (var d in documents) (d.IsDeleted, d.DeletionId, d.DeletedAt, d.DeletedByUserId) = (false, null, null, null);
            await db.SaveChangesAsync(ct);
            var record = caller.Audit(top is not null ? AuditAction.FolderRestored : AuditAction.DocumentRestored, AuditOutcome.Allowed);
            if (top is not null) (record.FolderId, record.TargetName) = (top.Id, top.Name);
            else (record.DocumentId, record.FolderId, record.TargetName) = (documents[0].Id, documents[0].FolderId, documents[0].DisplayName);
            // Where it is back (by names, as they are now), like the delete's event said where it was.
            record.TargetPath = (await PermissionService.PathAccessAsync(db, new Actor(Guid.Empty, true), top?.Path ?? documents[0].Folder!.Path, ct)).NamesPath;
            record.Changes = AuditChanges.Of(new { deleted = true, deletionId }, new { deleted = false, folders = folders.Count, documents = documents.Count });
            change.Record(record);
        }
        if (top is null)
        {
            // A document comes back under its name only if no live document in its folder took that name meanwhile.
            var taken = await audit.CommitWithChangeAsync(db, change => documentNames.RunAsync(db, async () =>
            {
                foreach (var d in documents)
                    if (await DocumentNameLock.IsTakenAsync(db, d.FolderId, d.DisplayName, d.Id, ct)) return d.DisplayName;
                await BringBack(change);
                return null;
            }, ct), ct);
            if (taken is not null)
                return OperationResult.Conflict($"A document named \"{taken}\" is already where this one was. Rename that one first, then restore this.");
        }
        else if (!await audit.CommitWithChangeAsync(db, change => names.WriteIfFreeAsync(db, top.ParentId, top.Name, top.Id, () => BringBack(change), ct), ct))
            return OperationResult.Conflict($"A folder named \"{top.Name}\" is already where this one was. Rename that one first, then restore this.");

        return OperationResult.Done(top?.Id ?? documents[0].Id);
    }

    /// <summary>
    /// Removes for good one bin entry (<paramref name="deletionId"/>) or, when null, everything in the bin. Admins only.
    /// </summary>
    public async Task<OperationResult> EmptyAsync(Caller caller, Guid? deletionId, CancellationToken ct = default)
    {
        if (caller.Actor is not { } actor) return OperationResult.Forbidden("Sign in first.");
        if (!actor.IsAdmin) return await RefuseAsync(caller, AuditAction.BinEmptied, "Only administrators empty the bin", ct);
        await using var db = await contexts.CreateDbContextAsync(ct);

        // What goes: the entry's folders with their whole subtree (all deleted, possibly earlier), and its documents.
        IQueryable<Folder> folders = db.Folders.Where(f => f.IsDeleted);
        IQueryable<Portal.Data.Documents.Document> documents = db.Documents.Where(d => d.IsDeleted);
        if (deletionId is { } id)
        {
            var prefixes = await db.Folders.Where(f => f.DeletionId == id).Select(f => f.Path).ToListAsync(ct);
            var top = prefixes.OrderBy(p => p.Length).FirstOrDefault();
            folders = top is null ? folders.Where(_ => false) : folders.Where(f => f.Path.StartsWith(top));
            documents = top is null ? documents.Where(d => d.DeletionId == id) : documents.Where(d => d.DeletionId == id || d.Folder!.Path.StartsWith(top));
        }

        var doomedDocuments = await documents.Select(d => new { d.Id, d.ContentHash, Versions = d.Versions.Select(v => v.ContentHash).ToList() }).ToListAsync(ct);
        var doomedFolders = await folders.Select(f => new { f.Id, f.Path }).ToListAsync(ct);
        if (deletionId is not null && doomedDocuments.Count == 0 && doomedFolders.Count == 0) return OperationResult.NotFound("Nothing in the bin has this id.");

        var documentIds = doomedDocuments.Select(d => d.Id).ToList();
        var hashes = doomedDocuments.SelectMany(d => d.Versions.Append(d.ContentHash)).Distinct().ToList();
        var unreferenced = await audit.CommitWithChangeAsync(db, async change =>
        {
            foreach (var chunk in documentIds.Chunk(500))
            {
                await db.DocumentVersions.Where(v => chunk.Contains(v.DocumentId)).ExecuteDeleteAsync(ct);
                await db.Documents.Where(d => chunk.Contains(d.Id)).ExecuteDeleteAsync(ct);
            }
            // Deepest first: a folder row goes only after its children.
            foreach (var level in doomedFolders.GroupBy(f => f.Path.Length).OrderByDescending(g => g.Key))
                foreach (var chunk in level.Select(f => f.Id).Chunk(500))
                    await db.Folders.Where(f => chunk.Contains(f.Id)).ExecuteDeleteAsync(ct);
            var left = await UnreferencedAsync(db, hashes, ct);
            var record = caller.Audit(AuditAction.BinEmptied, AuditOutcome.Allowed, deletionId is null ? "The whole bin" : $"Bin entry {deletionId}");
            record.Changes = AuditChanges.Of(
                new { folders = doomedFolders.Count, documents = doomedDocuments.Count, documentIds = documentIds.Take(1000), folderIds = doomedFolders.Select(f => f.Id).Take(1000) },
                new { folders = 0, documents = 0, storedFilesRemoved = left.Count });
            change.Record(record);
            return left;
        }, ct);

        // The bytes go after the rows and the event are committed (bytes nobody refers to are harmless, a row without its
        // bytes is not), through the store (a folder or a bucket), and only those nothing refers to now: an upload of the
        // same content since the commit keeps them. The request may have gone: this finishes regardless.
        var removedFiles = 0;
        foreach (var hash in await UnreferencedAsync(db, unreferenced, CancellationToken.None))
        {
            try
            {
                await storage.DeleteAsync(hash, CancellationToken.None);
                removedFiles++;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogWarning(e, "Could not remove stored content {ContentHash}; check-storage will report it", hash);
            }
        }
        log.LogInformation("Bin emptied: {Folders} folders, {Documents} documents, {Files} stored contents removed", doomedFolders.Count, doomedDocuments.Count, removedFiles);
        return OperationResult.Done();
    }

    /// <summary>Those of <paramref name="hashes"/> that no document or version (live, in the bin, or older) refers to.</summary>
    private static async Task<List<string>> UnreferencedAsync(PortalDbContext db, IReadOnlyList<string> hashes, CancellationToken ct)
    {
        var referenced = new HashSet<string>();
        foreach (var chunk in hashes.Chunk(500))
        {
            referenced.UnionWith(await db.Documents.Where(d => chunk.Contains(d.ContentHash)).Select(d => d.ContentHash).ToListAsync(ct));
            referenced.UnionWith(await db.DocumentVersions.Where(v => chunk.Contains(v.ContentHash)).Select(v => v.ContentHash).ToListAsync(ct));
        }
        return hashes.Where(h => !referenced.Contains(h)).ToList();
    }

    private async Task<OperationResult> RefuseAsync(Caller caller, AuditAction action, string reason, CancellationToken ct)
    {
        await audit.AppendAsync(caller.Audit(action, AuditOutcome.Denied, reason), ct);
        return OperationResult.Forbidden(reason + ".");
    }
}
