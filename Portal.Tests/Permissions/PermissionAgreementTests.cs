using Microsoft.EntityFrameworkCore;
using Portal.Data.Database;
using Portal.Data.Documents;
using Portal.Data.Downloads;
using Portal.Data.Folders;
using Portal.Data.Permissions;
using Portal.Data.Users;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Permissions;

/// <summary>
/// On a random tree (deep, with stops, user and group entries): the single-folder check, the whole-tree check and
/// the explanation give the same rights for every user on every folder, and so do the download decision's reads (on SQLite
/// its own prepared SQL, on PostgreSQL EF's and the one statement that reads the document with the rights).
/// (bench/permissions.sh counts the SQL commands of a check: one.)
/// </summary>
public abstract class PermissionAgreementTests(DatabaseProvider provider) : IAsyncLifetime
{
    private DataServices data = null!;
    private readonly List<Folder> folders = [];
    private readonly List<Guid> users = [];
    private readonly List<Document> documents = [];

    public async Task InitializeAsync()
    {
        data = await DataServices.CreateAsync(provider);
        var random = new Random(7);
        await using var db = await data.Contexts.CreateDbContextAsync();
        var groups = Enumerable.Range(0, 4).Select(i => new Group { Id = Guid.NewGuid(), Name = $"g{i}" }).ToList();
        db.Groups.AddRange(groups);
        for (var i = 0; i < 6; i++)
        {
            var user = new User { Id = Guid.NewGuid(), Issuer = "t", Subject = $"u{i}", DisplayName = $"U{i}" };
            db.Users.Add(user);
            users.Add(user.Id);
            foreach (var g in groups.Where(_ => random.Next(2) == 0)) db.GroupMemberships.Add(new GroupMembership { UserId = user.Id, GroupId = g.Id });
        }
        for (var i = 0; i < 40; i++)
        {
            // Mostly deep chains: each folder's parent is one of the last few made (depths up to about 15).
            var parent = i == 0 || random.Next(10) == 0 ? null : folders[Math.Max(0, folders.Count - 1 - random.Next(3))];
            var folder = Scenario.NewFolder($"F{i}", parent);
            folder.InheritPermissions = parent is null || random.Next(5) != 0;
            folders.Add(folder);
        }
        db.Folders.AddRange(folders);
        var entered = new HashSet<(Guid Folder, Guid? User, Guid? Group)>(); // one entry per folder and principal (unique index)
        for (var i = 0; i < 60; i++)
        {
            var forGroup = random.Next(3) == 0;
            var entry = new PermissionEntry
            {
                Id = Guid.NewGuid(), FolderId = folders[random.Next(folders.Count)].Id, Rights = (Rights)random.Next(1, 16),
                UserId = forGroup ? null : users[random.Next(users.Count)], GroupId = forGroup ? groups[random.Next(groups.Count)].Id : null,
            };
            if (entered.Add((entry.FolderId, entry.UserId, entry.GroupId))) db.PermissionEntries.Add(entry);
        }
        foreach (var folder in folders)
        {
            // Two documents a folder: one live with three versions, one deleted.
            var live = new Document { Id = Guid.NewGuid(), FolderId = folder.Id, DisplayName = $"{folder.Name} «report».pdf", ContentHash = new string('a', 64),
                Size = 3_000_000_000 + random.Next(1000), ContentType = "application/pdf", CurrentVersion = 3 };
            for (var n = 1; n <= 3; n++)
                live.Versions.Add(new DocumentVersion { Id = Guid.NewGuid(), Number = n, ContentHash = new string((char)('a' + n), 64), Size = n, ContentType = $"text/v{n}" });
            var deleted = new Document { Id = Guid.NewGuid(), FolderId = folder.Id, DisplayName = "gone.txt", ContentHash = new string('f', 64), ContentType = "text/plain", IsDeleted = true };
            documents.AddRange([live, deleted]);
        }
        db.Documents.AddRange(documents);
        await db.SaveChangesAsync();
    }

    public async Task DisposeAsync() => await data.DisposeAsync();

    [Fact]
    public async Task The_check_the_tree_and_the_explanation_agree_everywhere()
    {
        var differing = new List<string>();
        var nonEmpty = 0;
        foreach (var user in users)
        {
            var tree = await data.Permissions.GetRightsOnAllFoldersAsync(new Actor(user, false));
            foreach (var folder in folders)
            {
                var rights = await data.Permissions.GetRightsAsync(new Actor(user, false), folder.Id);
                var explained = (await data.Permissions.ExplainAsync(user, folder.Id))!;
                if (rights != tree[folder.Id] || rights != explained.Effective)
                    differing.Add($"{folder.Name}: check {rights}, tree {tree[folder.Id]}, explain {explained.Effective}");
                foreach (var right in new[] { Rights.Browse, Rights.Download, Rights.Upload, Rights.Manage })
                    Assert.NotEmpty(explained.Reasons(right));
                if (rights != Rights.None) nonEmpty++;
            }
        }
        Assert.Empty(differing);
        Assert.InRange(nonEmpty, 1, users.Count * folders.Count - 1); // the world has both answers in it
    }

    [Fact]
    public async Task The_download_decisions_reads_agree_with_the_check_for_every_user_and_document()
    {
        var names = folders.ToDictionary(f => f.Id, f => f.Name);
        // Nothing changes below: every read must carry the version the database holds now (the triggers raised it while
        // the data above was written).
        long accessVersion;
        await using (var db = await data.Contexts.CreateDbContextAsync())
            accessVersion = await db.AccessVersions.Select(a => a.Version).SingleAsync();
        Assert.True(accessVersion > 0);
        var differing = new List<string>();
        foreach (var user in users.Select(u => new Actor(u, false)).Append(new Actor(Guid.NewGuid(), true)))
            foreach (var document in documents)
            {
                await using var reads = await data.DownloadReads.OpenAsync(default);
                var found = await reads.LiveDocumentAsync(document.Id, default);
                var together = await reads.LiveDocumentWithAccessAsync(document.Id, user, default);
                if (document.IsDeleted)
                {
                    if (found is not null || together is not null) differing.Add($"{document.Id}: a deleted document was found");
                    continue;
                }
                var folder = folders.Single(f => f.Id == document.FolderId);
                Assert.Equal(new DeliverableDocument(document.Id, document.DisplayName, document.ContentHash, document.Size, document.ContentType,
                    folder.Id, folder.Path, 3), found);
                Assert.Equal(new VersionContent(new string('c', 64), 2, "text/v2"), await reads.VersionAsync(document.Id, 2, default));
                Assert.Null(await reads.VersionAsync(document.Id, 4, default));

                var access = await reads.PathAccessAsync(user, found!.FolderPath, default);
                var expected = await data.Permissions.GetRightsAsync(user, folder.Id);
                var namesPath = "/" + string.Join('/', Folder.AncestorIdsOf(folder.Path).Select(id => names[id]));
                if (access != new PermissionService.PathAccess(expected, namesPath))
                    differing.Add($"{folder.Name} for {user}: reads {access}, check {expected} {namesPath}");
                if (together != new DocumentAccess(found!, new PermissionService.PathAccess(expected, namesPath), accessVersion))
                    differing.Add($"{folder.Name} for {user}: read together {together}, check {expected} {namesPath}");
            }
        Assert.Empty(differing);
        await using (var reads = await data.DownloadReads.OpenAsync(default))
        {
            Assert.Null(await reads.LiveDocumentAsync(Guid.NewGuid(), default));
            Assert.Null(await reads.LiveDocumentWithAccessAsync(Guid.NewGuid(), new Actor(users[0], false), default));
        }
    }
}

public sealed class SqlitePermissionAgreementTests() : PermissionAgreementTests(DatabaseProvider.Sqlite);

public sealed class PostgresPermissionAgreementTests() : PermissionAgreementTests(DatabaseProvider.PostgreSQL);
