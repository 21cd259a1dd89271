using Portal.Data.Database;
using Portal.Data.Folders;
using Portal.Data.Permissions;
using Portal.Data.Users;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Permissions;

/// <summary>
/// On a random tree (deep, with stops, user and group entries): the single-folder check, the whole-tree check and
/// the explanation give the same rights for every user on every folder,. (bench/permissions.sh counts the SQL commands of a check: one.)
/// </summary>
public abstract class PermissionAgreementTests(DatabaseProvider provider) : IAsyncLifetime
{
    private DataServices data = null!;
    private readonly List<Folder> folders = [];
    private readonly List<Guid> users = [];

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
}

public sealed class SqlitePermissionAgreementTests() : PermissionAgreementTests(DatabaseProvider.Sqlite);

public sealed class PostgresPermissionAgreementTests() : PermissionAgreementTests(DatabaseProvider.PostgreSQL);
