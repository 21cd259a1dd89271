using Microsoft.AspNetCore.StaticFiles;
using Microsoft.EntityFrameworkCore;
using Portal.App.Folders;
using Portal.Data;
using Portal.Data.Database;
using Portal.Data.Audit;
using Portal.Data.Documents;
using Portal.Data.Permissions;

namespace Portal.App.Documents;

/// <summary>A version as the history shows it.</summary>
public sealed record VersionRow(int Number, long Size, string ContentType, DateTimeOffset UploadedAt, string? UploadedBy, bool IsCurrent);

/// <summary>
/// Rename, move, delete a document and add a new version. The folder page and the HTTP endpoints share these, so the
/// rights are checked here on the server (Manage to rename/move/delete, on both folders for a move; Upload for a
/// new version); each attempt is an audit event with before/after. Writes take their turn (<see cref="DatabaseWriteGate"/>).
/// </summary>
public sealed class DocumentOperations(
    IDbContextFactory<PortalDbContext> contexts, PermissionService permissions, DocumentStorage storage, AuditLog audit,
    TimeProvider clock, DocumentNameLock names, ILogger<DocumentOperations> log)
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    /// <summary>The type for a name's extension, or application/octet-stream (never guessed from the bytes).</summary>
    public static string ContentTypeFor(string name) =>
        ContentTypes.TryGetContentType(name, out var byExtension) ? byExtension : "application/octet-stream";

    public async Task<OperationResult> RenameAsync(Caller caller, Guid documentId, string name, CancellationToken ct = default)
    {
        if (caller.Actor is not { } actor) return OperationResult.Forbidden("Sign in first.");
        await using var db = await contexts.CreateDbContextAsync(ct);
        var doc = await db.Documents.Include(d => d.Folder).SingleOrDefaultAsync(d => d.Id == documentId && !d.IsDeleted, ct);
        if (doc is null) return OperationResult.NotFound("The document does not exist or was deleted.");
        if (!(await permissions.GetRightsAsync(actor, doc.FolderId, ct)).HasFlag(Rights.Manage))
            return await RefuseAsync(caller, AuditAction.DocumentRenamed, doc, "No Manage right on the folder", ct);
        if (DocumentNames.Problem(name) is { } problem) return OperationResult.Invalid(problem);

        if (name == doc.DisplayName) return OperationResult.Done(documentId);

        var before = new { name = doc.DisplayName, contentType = doc.ContentType };
        var renamed = await audit.CommitWithChangeAsync(db, change => names.RunAsync(db, async () =>
        {
            if (await DocumentNameLock.IsTakenAsync(db, doc.FolderId, name, doc.Id, ct)) return false;
            doc.DisplayName = name;
            change.Record(await ChangeEventAsync(db, caller, AuditAction.DocumentRenamed, doc, before, new { name, contentType = doc.ContentType }, ct));
            return true;
        }, ct), ct);
        if (!renamed) return OperationResult.Conflict($"A document named \"{name}\" is already in this folder.");
        return OperationResult.Done(documentId);
    }

    public async Task<OperationResult> MoveAsync(Caller caller, Guid documentId, Guid targetFolderId, CancellationToken ct = default)
    {
        if (caller.Actor is not { } actor) return OperationResult.Forbidden("Sign in first.");
        await using var db = await contexts.CreateDbContextAsync(ct);
        var doc = await db.Documents.Include(d => d.Folder).SingleOrDefaultAsync(d => d.Id == documentId && !d.IsDeleted, ct);
        if (doc is null) return OperationResult.NotFound("The document does not exist or was deleted.");
        var target = await db.Folders.SingleOrDefaultAsync(f => f.Id == targetFolderId && !f.IsDeleted, ct);
        if (target is null) return OperationResult.NotFound("The destination folder does not exist or was deleted.");
        if (!(await permissions.GetRightsAsync(actor, doc.FolderId, ct)).HasFlag(Rights.Manage))
            return await RefuseAsync(caller, AuditAction.DocumentMoved, doc, "No Manage right on the folder", ct);
        if (!(await permissions.GetRightsAsync(actor, targetFolderId, ct)).HasFlag(Rights.Manage))
            return await RefuseAsync(caller, AuditAction.DocumentMoved, doc, "No Manage right on the destination folder", ct);
        if (doc.FolderId == targetFolderId) return OperationResult.Done(documentId);

        var before = new { folderId = doc.FolderId, path = await NamesPathAsync(db, doc.Folder!.Path, ct) };
        var moved = await audit.CommitWithChangeAsync(db, change => names.RunAsync(db, async () =>
        {
            if (await DocumentNameLock.IsTakenAsync(db, targetFolderId, doc.DisplayName, doc.Id, ct))
                return $"The destination already has a document named \"{doc.DisplayName}\".";
            // Into a folder that is still live at the write (not binned since it was looked up).
            if (!await LockLiveFolderAsync(db, targetFolderId, ct)) return "The destination folder was deleted meanwhile.";
            doc.FolderId = targetFolderId;
            doc.Folder = target;
            change.Record(await ChangeEventAsync(db, caller, AuditAction.DocumentMoved, doc, before,
                new { folderId = targetFolderId, path = await NamesPathAsync(db, target.Path, ct) }, ct));
            return (string?)null;
        }, ct), ct);
        if (moved is not null) return OperationResult.Conflict(moved);
        return OperationResult.Done(documentId);
    }

    /// <summary>Puts the document in the bin (an administrator can restore it or empty the bin).</summary>
    public async Task<OperationResult> DeleteAsync(Caller caller, Guid documentId, CancellationToken ct = default)
    {
        if (caller.Actor is not { } actor) return OperationResult.Forbidden("Sign in first.");
        await using var db = await contexts.CreateDbContextAsync(ct);
        var doc = await db.Documents.Include(d => d.Folder).SingleOrDefaultAsync(d => d.Id == documentId && !d.IsDeleted, ct);
        if (doc is null) return OperationResult.NotFound("The document does not exist or was already deleted.");
        if (!(await permissions.GetRightsAsync(actor, doc.FolderId, ct)).HasFlag(Rights.Manage))
            return await RefuseAsync(caller, AuditAction.DocumentDeleted, doc, "No Manage right on the folder", ct);

        var deletion = Guid.CreateVersion7(clock.GetUtcNow());
        return await audit.CommitWithChangeAsync(db, async change =>
        {
            (doc.IsDeleted, doc.DeletionId, doc.DeletedAt, doc.DeletedByUserId) = (true, deletion, clock.GetUtcNow(), actor.UserId);
            change.Record(await ChangeEventAsync(db, caller, AuditAction.DocumentDeleted, doc, new { deleted = false }, new { deleted = true, deletionId = deletion }, ct));
            return OperationResult.Done(deletion);
        }, ct);
    }

    /// <summary>
    /// Stores <paramref name="content"/> as the next version of a document (Upload right on its folder): streamed,
    /// hashed on the way, stored once. The document keeps its name; the older versions stay downloadable.
    /// </summary>
    public async Task<OperationResult> AddVersionAsync(Caller caller, Guid documentId, string fileName, Stream content, long maxBytes, CancellationToken ct = default)
    {
        if (caller.Actor is null) return OperationResult.Forbidden("Sign in first.");
        if (await MayAddVersionAsync(caller, documentId, ct) is { Succeeded: false } refused) return refused;
        if (DocumentNames.Problem(fileName) is { } problem) return OperationResult.Invalid(problem);

        StoredContent stored;
        try { stored = await storage.PutAsync(new LimitedStream(content, maxBytes), ct); }
        catch (FileTooLargeException)
        {
            return new OperationResult(OperationStatus.TooLarge, $"\"{fileName}\" is larger than the limit of {UploadEndpoints.FormatBytes(maxBytes)}.");
        }

        await using var db = await contexts.CreateDbContextAsync(ct);
        var (result, refusedDoc, reason) = await audit.CommitWithChangeAsync(db, change => names.RunAsync(db, async () =>
        {
            var doc = await db.Documents.Include(d => d.Folder).Include(d => d.Versions).SingleOrDefaultAsync(d => d.Id == documentId && !d.IsDeleted, ct);
            if (doc is null) return (OperationResult.NotFound("The document was deleted while the new version was uploading."), null, null);
            if (await RecheckAtInsertAsync(db, caller.Actor!, doc.FolderId, needsBrowse: true, ct) is { } refused) return (OperationResult.Done(), doc, refused);
            await AddVersionHoldingLockAsync(db, change, caller, doc, fileName, stored, null, ct);
            return (OperationResult.Done(doc.Id), (Document?)null, (string?)null);
        }, ct), ct);
        return refusedDoc is not null ? await RefuseAsync(caller, AuditAction.DocumentVersionAdded, refusedDoc, reason!, ct) : result;
    }

    /// <summary>
    /// Files an upload to a folder under its name (the caller checked the Upload right): a new document or, when a live
    /// document of that name is already there, that document's next version. Uploading "Policy.pdf" again updates
    /// Policy.pdf, as in Nextcloud or SharePoint, instead of making a second one that nobody, the audit log included,
    /// can tell apart from the first.
    /// <para>Only for someone who may see the folder's contents (Browse). A drop-box uploader (Upload without Browse) gets
    /// a new document whatever the name: replacing, or even answering "version 2", would tell them what is there.</para>
    /// </summary>
    /// <returns>The document filed, or a refusal (nothing filed, the refusal recorded) when the folder was deleted or the
    /// right revoked while the file was uploading: both are checked again at the insert, in its transaction.</returns>
    public async Task<(UploadedDocument? Filed, OperationResult? Refused)> FileUploadAsync(Caller caller, Guid folderId, string? namesPath, string name, StoredContent content,
        bool seesFolder, CancellationToken ct)
    {
        var actor = caller.Actor ?? throw new InvalidOperationException("Uploads are filed for a signed-in person.");
        await using var db = await contexts.CreateDbContextAsync(ct);
        var (filed, refused) = await audit.CommitWithChangeAsync(db, change => names.RunAsync(db, async () =>
        {
            if (await RecheckAtInsertAsync(db, actor, folderId, needsBrowse: false, ct) is { } reason) return (null, reason);
            var existing = !seesFolder ? null : await db.Documents.Include(d => d.Folder).Include(d => d.Versions)
                .Where(d => d.FolderId == folderId && d.DisplayName == name && !d.IsDeleted)
                .OrderByDescending(d => d.CreatedAt).FirstOrDefaultAsync(ct);
            if (existing is not null)
            {
                var number = await AddVersionHoldingLockAsync(db, change, caller, existing, name, content, namesPath, ct);
                return (new UploadedDocument(existing.Id, name, content.Size, existing.ContentType, number), (string?)null);
            }

            var now = clock.GetUtcNow();
            var contentType = ContentTypeFor(name);
            var document = new Document
            {
                Id = Guid.CreateVersion7(now), FolderId = folderId, DisplayName = name, ContentHash = content.ContentHash,
                Size = content.Size, ContentType = contentType, UploadedByUserId = actor.UserId,
            };
            document.Versions.Add(new DocumentVersion
            {
                Id = Guid.CreateVersion7(now), Number = 1, ContentHash = content.ContentHash, Size = content.Size,
                ContentType = contentType, UploadedByUserId = actor.UserId, UploadedAt = now,
            });
            var record = caller.Audit(AuditAction.DocumentUploaded, AuditOutcome.Allowed);
            (record.DocumentId, record.FolderId, record.TargetName, record.ContentHash, record.Size, record.TargetPath) =
                (document.Id, folderId, name, content.ContentHash, content.Size, namesPath);
            db.Documents.Add(document);
            change.Record(record);
            log.LogInformation("Uploading {DocumentId} ({Size} bytes) to {FolderId}", document.Id, content.Size, folderId);
            return (new UploadedDocument(document.Id, name, content.Size, contentType, 1), (string?)null);
        }, ct), ct);
        if (refused is null) return (filed, null);
        var denied = caller.Audit(AuditAction.DocumentUploaded, AuditOutcome.Denied, refused);
        (denied.FolderId, denied.TargetName, denied.TargetPath) = (folderId, name, namesPath);
        await audit.AppendAsync(denied, ct);
        return (null, OperationResult.Forbidden("Not stored: " + refused[..1].ToLowerInvariant() + refused[1..] + "."));
    }

    /// <summary>
    /// Whether a file may still be filed in <paramref name="folderId"/>, checked in the insert's transaction: the folder is
    /// live (and locked so, until commit, against a delete binning it) and the caller still has Upload (and Browse to add
    /// a version). The reason it may not, or null.
    /// </summary>
    private static async Task<string?> RecheckAtInsertAsync(PortalDbContext db, Actor actor, Guid folderId, bool needsBrowse, CancellationToken ct)
    {
        if (!await LockLiveFolderAsync(db, folderId, ct)) return "The folder was deleted";
        var path = await db.Folders.Where(f => f.Id == folderId).Select(f => f.Path).SingleAsync(ct);
        var rights = (await PermissionService.PathAccessAsync(db, actor, path, ct)).Rights;
        if (!rights.HasFlag(Rights.Upload)) return "No Upload right on the folder";
        if (needsBrowse && !rights.HasFlag(Rights.Browse)) return "No Browse right on the folder";
        return null;
    }

    /// <summary>
    /// True when the folder is live, and then holds its row's write lock until the transaction ends: a folder delete (which
    /// updates every folder of its subtree) waits for this insert and then bins what it inserted, or ran first and this
    /// sees the folder deleted. A no-op update, because it is the one row lock every provider takes the same way.
    /// </summary>
    private static async Task<bool> LockLiveFolderAsync(PortalDbContext db, Guid folderId, CancellationToken ct) =>
        await db.Folders.Where(f => f.Id == folderId && !f.IsDeleted).ExecuteUpdateAsync(s => s.SetProperty(f => f.IsDeleted, false), ct) == 1;

    /// <summary>Makes <paramref name="stored"/> the next version of <paramref name="doc"/> (tracked, with its folder and versions); holding <see cref="DocumentNameLock"/>, so two at once get different numbers.</summary>
    /// <param name="namesPath">The folder's path by names when the caller already read it (an upload), else read here.</param>
    private async Task<int> AddVersionHoldingLockAsync(PortalDbContext db, AuditedChange change, Caller caller, Document doc, string fileName, StoredContent stored,
        string? namesPath, CancellationToken ct)
    {
        var actor = caller.Actor!;
        var now = clock.GetUtcNow();
        // A document from before versions existed gets its first version written down now, so history stays complete.
        // Added through the set: a new row with its id already set, found through the collection, would be taken for an update.
        if (doc.Versions.Count == 0)
            db.DocumentVersions.Add(new DocumentVersion
            {
                Id = Guid.CreateVersion7(now), DocumentId = doc.Id, Number = doc.CurrentVersion, ContentHash = doc.ContentHash, Size = doc.Size,
                ContentType = doc.ContentType, UploadedByUserId = doc.UploadedByUserId, UploadedAt = doc.CreatedAt,
            });
        var before = new { version = doc.CurrentVersion, contentHash = doc.ContentHash, size = doc.Size, contentType = doc.ContentType };
        var number = doc.Versions.Count == 0 ? doc.CurrentVersion + 1 : doc.Versions.Max(v => v.Number) + 1;
        var contentType = ContentTypeFor(fileName);
        db.DocumentVersions.Add(new DocumentVersion
        {
            Id = Guid.CreateVersion7(now), DocumentId = doc.Id, Number = number, ContentHash = stored.ContentHash, Size = stored.Size,
            ContentType = contentType, UploadedByUserId = actor.UserId, UploadedAt = now,
        });
        (doc.CurrentVersion, doc.ContentHash, doc.Size, doc.ContentType, doc.UploadedByUserId) = (number, stored.ContentHash, stored.Size, contentType, actor.UserId);

        var record = caller.Audit(AuditAction.DocumentVersionAdded, AuditOutcome.Allowed, $"Version {number}");
        (record.DocumentId, record.FolderId, record.TargetName, record.ContentHash, record.Size) = (doc.Id, doc.FolderId, doc.DisplayName, stored.ContentHash, stored.Size);
        record.TargetPath = namesPath ?? await NamesPathAsync(db, doc.Folder!.Path, ct);
        record.Changes = AuditChanges.Of(before, new { version = number, contentHash = stored.ContentHash, size = stored.Size, contentType, uploadedAs = fileName });
        change.Record(record);
        log.LogInformation("Version {Version} of {DocumentId} stored ({Size} bytes)", number, doc.Id, stored.Size);
        return number;
    }

    /// <summary>The check <see cref="AddVersionAsync"/> makes, on its own so the endpoint refuses before reading the body.</summary>
    public async Task<OperationResult> MayAddVersionAsync(Caller caller, Guid documentId, CancellationToken ct = default)
    {
        if (caller.Actor is not { } actor) return OperationResult.Forbidden("Sign in first.");
        await using var db = await contexts.CreateDbContextAsync(ct);
        var doc = await db.Documents.Include(d => d.Folder).AsNoTracking().SingleOrDefaultAsync(d => d.Id == documentId && !d.IsDeleted, ct);
        if (doc is null) return OperationResult.NotFound("The document does not exist or was deleted.");
        var rights = await permissions.GetRightsAsync(actor, doc.FolderId, ct);
        if (!rights.HasFlag(Rights.Upload))
            return await RefuseAsync(caller, AuditAction.DocumentVersionAdded, doc, "No Upload right on the folder", ct);
        // A drop box (Upload without Browse) takes new files; it does not replace documents its uploaders cannot see.
        if (!rights.HasFlag(Rights.Browse))
            return await RefuseAsync(caller, AuditAction.DocumentVersionAdded, doc, "No Browse right on the folder", ct);
        return OperationResult.Done(documentId);
    }

    /// <summary>The versions of a document, newest first; empty without Browse on its folder.</summary>
    public async Task<IReadOnlyList<VersionRow>> VersionsAsync(Caller caller, Guid documentId, CancellationToken ct = default)
    {
        if (caller.Actor is not { } actor) return [];
        await using var db = await contexts.CreateDbContextAsync(ct);
        var doc = await db.Documents.AsNoTracking().Where(d => d.Id == documentId && !d.IsDeleted)
            .Select(d => new { d.FolderId, d.CurrentVersion, d.Size, d.ContentType, d.CreatedAt, By = d.UploadedBy!.DisplayName })
            .SingleOrDefaultAsync(ct);
        if (doc is null || !(await permissions.GetRightsAsync(actor, doc.FolderId, ct)).HasFlag(Rights.Browse)) return [];
        var versions = await db.DocumentVersions.AsNoTracking().Where(v => v.DocumentId == documentId).OrderByDescending(v => v.Number)
            .Select(v => new VersionRow(v.Number, v.Size, v.ContentType, v.UploadedAt, v.UploadedBy!.DisplayName, v.Number == doc.CurrentVersion))
            .ToListAsync(ct);
        return versions.Count > 0 ? versions : [new VersionRow(doc.CurrentVersion, doc.Size, doc.ContentType, doc.CreatedAt, doc.By, true)];
    }

    private static async Task<string> NamesPathAsync(PortalDbContext db, string path, CancellationToken ct) =>
        (await PermissionService.PathAccessAsync(db, new Actor(Guid.Empty, true), path, ct)).NamesPath;

    private async Task<OperationResult> RefuseAsync(Caller caller, AuditAction action, Document doc, string reason, CancellationToken ct)
    {
        var record = caller.Audit(action, AuditOutcome.Denied, reason);
        (record.DocumentId, record.FolderId, record.TargetName) = (doc.Id, doc.FolderId, doc.DisplayName);
        await using (var db = await contexts.CreateDbContextAsync(ct))
            record.TargetPath = doc.Folder is { } folder ? await NamesPathAsync(db, folder.Path, ct) : null;
        await audit.AppendAsync(record, ct);
        log.LogInformation("{Action} of {DocumentId} refused for {UserId}: {Reason}", action, doc.Id, caller.Actor?.UserId, reason);
        return OperationResult.Forbidden("You may not do that here: " + reason[..1].ToLowerInvariant() + reason[1..] + ".");
    }

    /// <summary>The event of a change to <paramref name="doc"/>, read in the change's transaction.</summary>
    private static async Task<AuditEvent> ChangeEventAsync(PortalDbContext db, Caller caller, AuditAction action, Document doc, object? before, object? after, CancellationToken ct)
    {
        var record = caller.Audit(action, AuditOutcome.Allowed);
        (record.DocumentId, record.FolderId, record.TargetName, record.ContentHash, record.Size) = (doc.Id, doc.FolderId, doc.DisplayName, doc.ContentHash, doc.Size);
        record.TargetPath = await NamesPathAsync(db, doc.Folder!.Path, ct);
        record.Changes = AuditChanges.Of(before, after);
        return record;
    }
}
