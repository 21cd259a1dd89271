using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Portal.App.Folders;
using Portal.Data;
using Portal.Data.Audit;
using Portal.Data.Permissions;

namespace Portal.App.Audit;

/// <summary>Records that someone opened a folder (or tried to): FolderOpened, allowed or denied with the reason.</summary>
public static class FolderAudit
{
    public static async Task OpenedAsync(AuditLog audit, IDbContextFactory<PortalDbContext> contexts, ClaimsPrincipal user, Guid folderId,
        FolderListing? listing, HttpContext? http)
    {
        var (outcome, reason) = listing switch
        {
            null => (AuditOutcome.Denied, "No such folder"),
            { CanBrowse: false } => (AuditOutcome.Denied, "No Browse right on the folder"),
            _ => (AuditOutcome.Allowed, (string?)null),
        };
        var e = AuditEventFactory.For(user, AuditAction.FolderOpened, outcome, reason, http);
        e.FolderId = folderId;
        if (listing is { CanBrowse: true, Breadcrumb.Count: > 0 })
        {
            e.TargetName = listing.Name;
            e.TargetPath = "/" + string.Join('/', listing.Breadcrumb.Select(step => step.Name));
        }
        else if (listing is not null)
        {
            // Refused: the person is not told the folder's name, but the record names it for whoever reads the log.
            await using var db = await contexts.CreateDbContextAsync();
            if (await db.Folders.Where(f => f.Id == folderId).Select(f => new { f.Name, f.Path }).SingleOrDefaultAsync() is { } folder)
            {
                e.TargetName = folder.Name;
                e.TargetPath = (await PermissionService.PathAccessAsync(db, new Actor(Guid.Empty, true), folder.Path, CancellationToken.None)).NamesPath;
            }
        }
        await audit.AppendAsync(e);
    }
}
