using System.Text;
using Microsoft.EntityFrameworkCore;
using Portal.App.Auth;
using Portal.App.Documents;
using Portal.Data;
using Portal.Data.Documents;
using Portal.Data.Folders;
using Portal.Data.Permissions;

namespace Portal.App.Demo;

/// <summary>
/// Seeds demo folders, documents and grants on first start (Demo:Seed), so a new install shows something:
/// staff may download in Company, only browse in Finance, and see nothing of Board.
/// </summary>
public sealed class DemoData(IDbContextFactory<PortalDbContext> contexts, DocumentStorage storage, UserDirectory users,
    TimeProvider clock, ILogger<DemoData> log)
{
    public async Task SeedIfEmptyAsync(CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        if (await db.Folders.AnyAsync(ct)) return;

        var demoUsers = new Dictionary<string, Guid>();
        foreach (var u in DemoUsers.All)
            demoUsers[u.Key] = (await users.SignedInAsync(DemoUsers.Issuer, $"demo-{u.Key}", u.DisplayName, u.Email, true, [u.Role], [u.Group], ct)).Id;
        var staffGroup = await db.Groups.Where(g => g.Name == "staff").Select(g => g.Id).SingleAsync(ct);

        var company = AddFolder(db, null, "Company");
        var policies = AddFolder(db, company, "Policies");
        var handbook = AddFolder(db, company, "Handbook");
        var finance = AddFolder(db, null, "Finance");
        var reports = AddFolder(db, finance, "Reports 2026");
        var board = AddFolder(db, null, "Board");
        board.InheritPermissions = false;

        db.PermissionEntries.Add(new PermissionEntry { Id = NewId(), FolderId = company.Id, GroupId = staffGroup, Rights = Rights.Browse | Rights.Download });
        db.PermissionEntries.Add(new PermissionEntry { Id = NewId(), FolderId = finance.Id, GroupId = staffGroup, Rights = Rights.Browse });

        await AddDocumentAsync(db, company, "Welcome.txt", "text/plain", "Welcome to the portal.\nEverything you download here is recorded in the audit log.\n", demoUsers["admin"], ct);
        await AddDocumentAsync(db, policies, "Expense policy.md", "text/markdown", "# Expense policy\n\nKeep receipts for six years.\n", demoUsers["admin"], ct);
        await AddDocumentAsync(db, policies, "Résumé été 2026.txt", "text/plain", "Résumé of the summer policy changes (a non-ASCII name).\n", demoUsers["admin"], ct);
        await AddDocumentAsync(db, handbook, "Staff handbook.txt", "text/plain", "Chapter 1: working hours.\n", demoUsers["admin"], ct);
        await AddDocumentAsync(db, reports, "Q3 results.csv", "text/csv", "quarter,revenue\nQ3,1200000\n", demoUsers["admin"], ct);
        await AddDocumentAsync(db, board, "Board minutes.txt", "text/plain", "Minutes of the board meeting. Confidential.\n", demoUsers["admin"], ct);

        await db.SaveChangesAsync(ct);
        log.LogInformation("Seeded demo data: {FolderCount} folders, {DocumentCount} documents", 6, 6);
    }

    private Guid NewId() => Guid.CreateVersion7(clock.GetUtcNow());

    private Folder AddFolder(PortalDbContext db, Folder? parent, string name)
    {
        var id = NewId();
        var folder = new Folder { Id = id, ParentId = parent?.Id, Name = name, Path = Folder.ChildPath(parent?.Path, id) };
        db.Folders.Add(folder);
        return folder;
    }

    private async Task AddDocumentAsync(PortalDbContext db, Folder folder, string name, string contentType, string text, Guid uploadedBy, CancellationToken ct)
    {
        using var content = new MemoryStream(Encoding.UTF8.GetBytes(text));
        var stored = await storage.PutAsync(content, ct);
        db.Documents.Add(new Document
        {
            Id = NewId(), FolderId = folder.Id, DisplayName = name, ContentHash = stored.ContentHash,
            Size = stored.Size, ContentType = contentType, UploadedByUserId = uploadedBy,
        });
    }
}
