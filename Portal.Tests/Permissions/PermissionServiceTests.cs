using Portal.Data.Database;
using Portal.Data.Folders;
using Portal.Data.Permissions;
using Portal.Data.Users;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Permissions;

/// <summary>The permission query against a real database: direct, group, inherited, stopped, none, admin.</summary>
public abstract class PermissionServiceTests(DatabaseProvider provider) : IAsyncLifetime
{
    private DataServices data = null!;
    private Guid alice, bob, staffGroup;
    private Folder root = null!, child = null!, grandchild = null!, walled = null!, underWall = null!, unrelated = null!;

    public async Task InitializeAsync()
    {
        data = await DataServices.CreateAsync(provider);
        await using var db = await data.Contexts.CreateDbContextAsync();
        alice = Guid.NewGuid(); bob = Guid.NewGuid(); staffGroup = Guid.NewGuid();
        db.Users.AddRange(new User { Id = alice, Issuer = "test", Subject = "alice", DisplayName = "Alice" },
                          new User { Id = bob, Issuer = "test", Subject = "bob", DisplayName = "Bob" });
        db.Groups.Add(new Group { Id = staffGroup, Name = "staff" });
        db.GroupMemberships.Add(new GroupMembership { UserId = bob, GroupId = staffGroup });

        root = Scenario.NewFolder("Root");
        child = Scenario.NewFolder("Child", root);
        grandchild = Scenario.NewFolder("Grandchild", child);
        walled = Scenario.NewFolder("Walled", child);
        walled.InheritPermissions = false;
        underWall = Scenario.NewFolder("Under wall", walled);
        unrelated = Scenario.NewFolder("Unrelated");
        db.Folders.AddRange(root, child, grandchild, walled, underWall, unrelated);

        db.PermissionEntries.AddRange(
            new PermissionEntry { Id = Guid.NewGuid(), FolderId = root.Id, UserId = alice, Rights = Rights.Browse },
            new PermissionEntry { Id = Guid.NewGuid(), FolderId = child.Id, UserId = alice, Rights = Rights.Download },
            new PermissionEntry { Id = Guid.NewGuid(), FolderId = root.Id, GroupId = staffGroup, Rights = Rights.Browse | Rights.Download },
            new PermissionEntry { Id = Guid.NewGuid(), FolderId = walled.Id, UserId = bob, Rights = Rights.Upload });
        await db.SaveChangesAsync();
    }

    public async Task DisposeAsync() => await data.DisposeAsync();

    private Task<Rights> RightsOf(Guid user, Folder folder, bool admin = false) =>
        data.Permissions.GetRightsAsync(new Actor(user, admin), folder.Id);

    [Fact] public async Task Direct_user_grant() => Assert.Equal(Rights.Browse, await RightsOf(alice, root));
    [Fact] public async Task Inherited_and_direct_grants_combine() => Assert.Equal(Rights.Browse | Rights.Download, await RightsOf(alice, child));
    [Fact] public async Task Inherited_two_levels_down() => Assert.Equal(Rights.Browse | Rights.Download, await RightsOf(alice, grandchild));
    [Fact] public async Task Group_grant_reaches_its_members() => Assert.Equal(Rights.Browse | Rights.Download, await RightsOf(bob, grandchild));
    [Fact] public async Task Stopped_inheritance_denies_what_was_granted_above() => Assert.Equal(Rights.None, await RightsOf(alice, walled));
    [Fact] public async Task Stopped_inheritance_keeps_the_folders_own_grants() => Assert.Equal(Rights.Upload, await RightsOf(bob, underWall));
    [Fact] public async Task No_grant_means_no_rights() => Assert.Equal(Rights.None, await RightsOf(alice, unrelated));
    [Fact] public async Task Admins_have_every_right() => Assert.Equal(Rights.All, await RightsOf(Guid.NewGuid(), unrelated, admin: true));
    [Fact] public async Task Unknown_folder_gives_nothing_even_to_admins() =>
        Assert.Equal(Rights.None, await data.Permissions.GetRightsAsync(new Actor(alice, true), Guid.NewGuid()));

    [Fact]
    public async Task The_tree_query_agrees_with_the_single_folder_query()
    {
        foreach (var user in new[] { alice, bob })
        {
            var all = await data.Permissions.GetRightsOnAllFoldersAsync(new Actor(user, false));
            foreach (var folder in new[] { root, child, grandchild, walled, underWall, unrelated })
                Assert.Equal(await RightsOf(user, folder), all[folder.Id]);
        }
    }
}

public sealed class SqlitePermissionServiceTests() : PermissionServiceTests(DatabaseProvider.Sqlite);

public sealed class PostgresPermissionServiceTests() : PermissionServiceTests(DatabaseProvider.PostgreSQL);
