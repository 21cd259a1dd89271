using System.Security.Claims;
using Portal.App.Folders;
using Portal.Data.Audit;

namespace Portal.App.Audit;

/// <summary>Records that someone opened a folder (or tried to): FolderOpened, allowed or denied with the reason.</summary>
public static class FolderAudit
{
    public static Task OpenedAsync(AuditLog audit, ClaimsPrincipal user, Guid folderId, FolderListing? listing, HttpContext? http)
    {
        var (outcome, reason) = listing switch
        {
            null => (AuditOutcome.Denied, "No such folder"),
            { CanBrowse: false } => (AuditOutcome.Denied, "No Browse right on the folder"),
            _ => (AuditOutcome.Allowed, (string?)null),
        };
        var e = AuditEventFactory.For(user, AuditAction.FolderOpened, outcome, reason, http);
        e.FolderId = folderId;
        if (listing is { CanBrowse: true, Breadcrumb.Count: > 0 }) e.TargetPath = "/" + string.Join('/', listing.Breadcrumb.Select(step => step.Name));
        return audit.AppendAsync(e);
    }
}
