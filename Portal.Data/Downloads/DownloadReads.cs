using Microsoft.EntityFrameworkCore;
using Portal.Data.Database;
using Portal.Data.Folders;
using Portal.Data.Permissions;

namespace Portal.Data.Downloads;

/// <summary>What a download needs of a live document: what to send, under which name, and where it lives.</summary>
public sealed record DeliverableDocument(Guid Id, string DisplayName, string ContentHash, long Size, string ContentType,
    Guid FolderId, string FolderPath, int CurrentVersion);

/// <summary>The stored content of one version of a document.</summary>
public sealed record VersionContent(string ContentHash, long Size, string ContentType);

/// <summary>
/// The reads of one download decision, on one connection: the live document, an older version if one is asked for,
/// and the rights on the document's folder (with its path by names, for the audit record).
/// </summary>
public interface IDownloadReads : IAsyncDisposable
{
    Task<DeliverableDocument?> LiveDocumentAsync(Guid id, CancellationToken ct);
    Task<VersionContent?> VersionAsync(Guid documentId, int number, CancellationToken ct);
    Task<PermissionService.PathAccess> PathAccessAsync(Actor actor, string materializedPath, CancellationToken ct);
}

/// <summary>
/// Opens the reads for one download decision. On SQLite they run on connections that keep their statements prepared
/// (<see cref="SqlitePreparedReads"/>): SQLite otherwise compiles every statement anew, which was the largest single
/// cost of a decision. On PostgreSQL and SQL Server, EF compiled queries (the servers keep the plans).
/// </summary>
public sealed class DownloadReads(IDbContextFactory<PortalDbContext> contexts, SqlitePreparedReads? sqlite = null)
{
    public async Task<IDownloadReads> OpenAsync(CancellationToken ct) =>
        sqlite is not null ? sqlite.Rent() : await EfDownloadReads.OpenAsync(contexts, ct);
}

/// <summary>The decision's reads as EF compiled queries on one pooled context and one opened connection.</summary>
internal sealed class EfDownloadReads(PortalDbContext db) : IDownloadReads
{
    public static async Task<IDownloadReads> OpenAsync(IDbContextFactory<PortalDbContext> contexts, CancellationToken ct)
    {
        var db = await contexts.CreateDbContextAsync(ct);
        try
        {
            // Opened once for the two or three queries, not once per query.
            await db.Database.OpenConnectionAsync(ct);
            return new EfDownloadReads(db);
        }
        catch
        {
            await db.DisposeAsync();
            throw;
        }
    }

    /// <summary>Compiled: it runs for every download, and EF's per-call query preparation cost more than the query.</summary>
    private static readonly CompiledQuery<Func<PortalDbContext, Guid, CancellationToken, Task<DeliverableDocument?>>> LiveDocumentQuery =
        new(() => EF.CompileAsyncQuery((PortalDbContext db, Guid id, CancellationToken ct) => db.Documents.AsNoTracking()
            .Where(d => d.Id == id && !d.IsDeleted)
            .Select(d => new DeliverableDocument(d.Id, d.DisplayName, d.ContentHash, d.Size, d.ContentType, d.FolderId, d.Folder!.Path, d.CurrentVersion))
            .SingleOrDefault()));

    public Task<DeliverableDocument?> LiveDocumentAsync(Guid id, CancellationToken ct) => LiveDocumentQuery.For(db)(db, id, ct);

    public Task<VersionContent?> VersionAsync(Guid documentId, int number, CancellationToken ct) =>
        db.DocumentVersions.AsNoTracking().Where(x => x.DocumentId == documentId && x.Number == number)
            .Select(x => new VersionContent(x.ContentHash, x.Size, x.ContentType)).SingleOrDefaultAsync(ct);

    public Task<PermissionService.PathAccess> PathAccessAsync(Actor actor, string materializedPath, CancellationToken ct) =>
        PermissionService.PathAccessAsync(db, actor, materializedPath, ct);

    public ValueTask DisposeAsync() => db.DisposeAsync();
}
