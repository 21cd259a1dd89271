using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Portal.App.Auth;
using Portal.App.Documents;
using Portal.Data;
using Portal.Data.Documents;
using Portal.Data.Folders;
using Portal.Data.Permissions;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// A small, known world: the demo people (so the development sign-in maps onto them), a "Shared" folder where
/// the staff group may browse and download, a "Restricted" folder with no grants, and a document in each.
/// </summary>
public sealed class Scenario
{
    public required Guid StaffUserId { get; init; }
    public required Guid AdminUserId { get; init; }
    public required Guid SharedFolderId { get; init; }
    public required Guid RestrictedFolderId { get; init; }
    public required Guid SharedDocumentId { get; init; }
    public required Guid RestrictedDocumentId { get; init; }
    public required byte[] SharedContent { get; init; }
    public required string SharedContentHash { get; init; }
    public const string SharedDocumentName = "Quarterly report.pdf";
    public const string RestrictedDocumentName = "Board minutes.txt";

    public static async Task<Scenario> CreateAsync(IServiceProvider services, int sharedSize = 64 * 1024)
    {
        var users = services.GetRequiredService<UserDirectory>();
        var ids = new Dictionary<string, Guid>();
        foreach (var u in DemoUsers.All)
            ids[u.Key] = (await users.SignedInAsync(DemoUsers.Issuer, $"demo-{u.Key}", u.DisplayName, u.Email, true, [u.Role], [u.Group])).Id;

        var storage = services.GetRequiredService<DocumentStorage>();
        var content = RandomNumberGenerator.GetBytes(sharedSize);
        var shared = await storage.PutAsync(new MemoryStream(content));
        var secret = await storage.PutAsync(new MemoryStream("confidential"u8.ToArray()));

        await using var db = await services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        var staffGroup = db.Groups.Single(g => g.Name == "staff").Id;
        var sharedFolder = NewFolder("Shared");
        var restrictedFolder = NewFolder("Restricted");
        db.Folders.AddRange(sharedFolder, restrictedFolder);
        db.PermissionEntries.Add(new PermissionEntry { Id = Guid.NewGuid(), FolderId = sharedFolder.Id, GroupId = staffGroup, Rights = Rights.Browse | Rights.Download });
        var sharedDoc = new Document { Id = Guid.NewGuid(), FolderId = sharedFolder.Id, DisplayName = SharedDocumentName, ContentHash = shared.ContentHash, Size = shared.Size, ContentType = "application/pdf" };
        var restrictedDoc = new Document { Id = Guid.NewGuid(), FolderId = restrictedFolder.Id, DisplayName = RestrictedDocumentName, ContentHash = secret.ContentHash, Size = secret.Size, ContentType = "text/plain" };
        db.Documents.AddRange(sharedDoc, restrictedDoc);
        await db.SaveChangesAsync();

        return new Scenario
        {
            StaffUserId = ids["staff"], AdminUserId = ids["admin"],
            SharedFolderId = sharedFolder.Id, RestrictedFolderId = restrictedFolder.Id,
            SharedDocumentId = sharedDoc.Id, RestrictedDocumentId = restrictedDoc.Id,
            SharedContent = content, SharedContentHash = shared.ContentHash,
        };
    }

    public static Folder NewFolder(string name, Folder? parent = null)
    {
        var id = Guid.NewGuid();
        return new Folder { Id = id, Name = name, ParentId = parent?.Id, Path = Folder.ChildPath(parent?.Path, id) };
    }
}
