using System.Net;
using System.Net.Http.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Portal.App.Hosting;
using Portal.Data;
using Portal.Data.Audit;
using Portal.Data.Database;
using Portal.Data.Folders;
using Portal.Data.Permissions;
using Portal.Data.Users;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Permissions;

/// <summary>
/// One permission entry per folder and principal, kept by the database itself: a second entry is refused, grants
/// made at the same moment (in one app instance or in two) leave one entry and no error, and the migration that
/// brought the unique indexes merged the duplicates an older database may hold.
/// </summary>
public abstract class UniquePermissionEntryTests(DatabaseProvider provider)
{
    private static void AssertUniqueViolation(DbUpdateException e)
    {
        switch (e.InnerException)
        {
            case SqliteException sqlite: Assert.Contains("UNIQUE constraint failed: PermissionEntries.FolderId", sqlite.Message); break;
            case PostgresException postgres: Assert.Equal(PostgresErrorCodes.UniqueViolation, postgres.SqlState); break;
            default: Assert.Fail($"Not a unique violation: {e.InnerException}"); break;
        }
    }

    private static (User User, Group Group, Folder Folder) NewWorld(PortalDbContext db)
    {
        var user = new User { Id = Guid.NewGuid(), Issuer = "t", Subject = "alice", DisplayName = "Alice" };
        var group = new Group { Id = Guid.NewGuid(), Name = "finance" };
        var folder = Scenario.NewFolder("Finance");
        db.AddRange(user, group, folder);
        return (user, group, folder);
    }

    [Fact]
    public async Task A_second_entry_for_the_same_folder_and_user_or_group_is_refused_by_the_database()
    {
        await using var data = await DataServices.CreateAsync(provider);
        Guid folderId, userId, groupId;
        await using (var db = await data.Contexts.CreateDbContextAsync())
        {
            var (user, group, folder) = NewWorld(db);
            (folderId, userId, groupId) = (folder.Id, user.Id, group.Id);
            db.PermissionEntries.AddRange(
                new PermissionEntry { Id = Guid.NewGuid(), FolderId = folderId, UserId = userId, Rights = Rights.Browse },
                new PermissionEntry { Id = Guid.NewGuid(), FolderId = folderId, GroupId = groupId, Rights = Rights.Browse });
            await db.SaveChangesAsync();
        }

        foreach (var second in new[]
        {
            new PermissionEntry { Id = Guid.NewGuid(), FolderId = folderId, UserId = userId, Rights = Rights.Download },
            new PermissionEntry { Id = Guid.NewGuid(), FolderId = folderId, GroupId = groupId, Rights = Rights.Download },
        })
        {
            await using var db = await data.Contexts.CreateDbContextAsync();
            db.PermissionEntries.Add(second);
            AssertUniqueViolation(await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync()));
        }

        // The NULL in the other principal column does not collide: another user and another group still get entries.
        await using (var db = await data.Contexts.CreateDbContextAsync())
        {
            var other = new User { Id = Guid.NewGuid(), Issuer = "t", Subject = "bob", DisplayName = "Bob" };
            var otherGroup = new Group { Id = Guid.NewGuid(), Name = "sales" };
            db.AddRange(other, otherGroup,
                new PermissionEntry { Id = Guid.NewGuid(), FolderId = folderId, UserId = other.Id, Rights = Rights.Browse },
                new PermissionEntry { Id = Guid.NewGuid(), FolderId = folderId, GroupId = otherGroup.Id, Rights = Rights.Browse });
            await db.SaveChangesAsync();
        }
        await using var check = await data.Contexts.CreateDbContextAsync();
        var rows = await check.PermissionEntries.Where(p => p.FolderId == folderId).Select(p => p.Rights).ToListAsync();
        Assert.Equal([Rights.Browse, Rights.Browse, Rights.Browse, Rights.Browse], rows);
    }

    private static async Task<HttpClient> AdminOfAsync(PortalHost host)
    {
        var client = host.CreateBrowserLikeClient();
        await SignIn.AsDemoUserForFormsAsync(client, "admin");
        return client;
    }

    private static Task<HttpResponseMessage[]> GrantAtOnceAsync(IEnumerable<HttpClient> admins, Guid folderId, int each) =>
        Task.WhenAll(admins.SelectMany(admin => Enumerable.Range(0, each).Select(_ =>
            admin.PostAsJsonAsync($"/api/folders/{folderId}/permissions", new { user = "sam@example.org", rights = new[] { "Browse", "Download" } }))));

    [Fact]
    public async Task Grants_for_the_same_folder_and_user_at_once_leave_one_entry_and_one_grant_in_the_audit_log()
    {
        await using var database = TestDatabase.Create(provider);
        await using var host = new PortalHost(database);
        var scenario = await Scenario.CreateAsync(host.Services);
        var admin = await AdminOfAsync(host);

        var responses = await GrantAtOnceAsync([admin], scenario.RestrictedFolderId, each: 6);

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var entries = await host.WithDbAsync(db => db.PermissionEntries.AsNoTracking().Where(p => p.FolderId == scenario.RestrictedFolderId).ToListAsync());
        var entry = Assert.Single(entries);
        Assert.Equal((scenario.StaffUserId, Rights.Browse | Rights.Download), (entry.UserId!.Value, entry.Rights));
        // One effective change, one event: the other five found the entry and changed nothing.
        var changes = (await host.AuditEventsAsync()).Where(e => e.FolderId == scenario.RestrictedFolderId).Select(e => e.Action).ToList();
        Assert.Equal([AuditAction.PermissionGranted], changes);
    }

    [Fact]
    public async Task Grants_for_the_same_folder_and_user_from_two_app_instances_at_once_leave_one_entry_and_no_error()
    {
        await using var database = TestDatabase.Create(provider);
        await using var first = new PortalHost(database) { InstanceTag = "a" };
        var scenario = await Scenario.CreateAsync(first.Services);
        await using var second = new PortalHost(database) { InstanceTag = "b" };
        var admins = new[] { await AdminOfAsync(first), await AdminOfAsync(second) };

        var responses = await GrantAtOnceAsync(admins, scenario.RestrictedFolderId, each: 4);

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var entries = await first.WithDbAsync(db => db.PermissionEntries.AsNoTracking().Where(p => p.FolderId == scenario.RestrictedFolderId).ToListAsync());
        var entry = Assert.Single(entries);
        Assert.Equal((scenario.StaffUserId, Rights.Browse | Rights.Download), (entry.UserId!.Value, entry.Rights));
        var changes = (await first.AuditEventsAsync()).Where(e => e.FolderId == scenario.RestrictedFolderId).Select(e => e.Action).ToList();
        if (provider == DatabaseProvider.Sqlite)
        {
            // No lock across instances on SQLite (one app per database file): the unique index refused the losers'
            // entries, whose "granted" events were already written; none of them became a change of different rights.
            Assert.Contains(AuditAction.PermissionGranted, changes);
            Assert.DoesNotContain(AuditAction.PermissionChanged, changes);
        }
        else Assert.Equal([AuditAction.PermissionGranted], changes); // the instances took turns: one effective change, one event
    }

    [Fact]
    public async Task The_migration_merges_duplicate_entries_into_one_with_the_union_of_their_rights()
    {
        await using var database = TestDatabase.Create(provider);
        await using var services = new ServiceCollection().AddLogging().AddSingleton(TimeProvider.System)
            .AddPortalDatabase(database.Provider, database.ConnectionString).BuildServiceProvider();
        var contexts = services.GetRequiredService<IDbContextFactory<PortalDbContext>>();

        Guid folderId, userId, groupId, otherUserId;
        var duplicateIds = new List<Guid>();
        string before;
        IReadOnlyList<(Type Entity, string Property)> newer;
        await using (var migrating = await contexts.CreateDbContextAsync())
        {
            var migrations = migrating.Database.GetMigrations().ToList();
            before = migrations[migrations.FindIndex(m => m.EndsWith("_UniquePermissionEntries")) - 1];
            await migrating.GetService<IMigrator>().MigrateAsync(before);
            newer = OlderSchemaContext.PropertiesNewerThan(migrating, before);
        }
        // The rows of an older database, written through a model without the columns later migrations added.
        await using (var db = OlderSchemaContext.Create(database, newer))
        {

            var (user, group, folder) = NewWorld(db);
            var other = new User { Id = Guid.NewGuid(), Issuer = "t", Subject = "bob", DisplayName = "Bob" };
            db.Users.Add(other);
            (folderId, userId, groupId, otherUserId) = (folder.Id, user.Id, group.Id, other.Id);
            var entries = new[]
            {
                new PermissionEntry { Id = Guid.NewGuid(), FolderId = folderId, UserId = userId, Rights = Rights.Browse },
                new PermissionEntry { Id = Guid.NewGuid(), FolderId = folderId, UserId = userId, Rights = Rights.Download | Rights.Upload },
                new PermissionEntry { Id = Guid.NewGuid(), FolderId = folderId, UserId = userId, Rights = Rights.Browse | Rights.Upload },
                new PermissionEntry { Id = Guid.NewGuid(), FolderId = folderId, GroupId = groupId, Rights = Rights.Browse },
                new PermissionEntry { Id = Guid.NewGuid(), FolderId = folderId, GroupId = groupId, Rights = Rights.Manage },
                new PermissionEntry { Id = Guid.NewGuid(), FolderId = folderId, UserId = otherUserId, Rights = Rights.Download },
            };
            duplicateIds.AddRange(entries.Take(5).Select(e => e.Id));
            db.PermissionEntries.AddRange(entries);
            await db.SaveChangesAsync();
        }

        await using (var db = await contexts.CreateDbContextAsync()) await db.Database.MigrateAsync();

        await using (var db = await contexts.CreateDbContextAsync())
        {
            var left = await db.PermissionEntries.AsNoTracking().Where(p => p.FolderId == folderId).ToListAsync();
            Assert.Equal(3, left.Count);
            Assert.Equal(Rights.Browse | Rights.Download | Rights.Upload, left.Single(p => p.UserId == userId).Rights);
            Assert.Equal(Rights.Browse | Rights.Manage, left.Single(p => p.GroupId == groupId).Rights);
            Assert.Equal(Rights.Download, left.Single(p => p.UserId == otherUserId).Rights);
            Assert.All(left.Where(p => p.UserId != otherUserId), p => Assert.Contains(p.Id, duplicateIds));
            Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        }
    }
}

/// <summary>The portal's model less the properties that migrations after a given one added: to write an older database's rows.</summary>
internal sealed class OlderSchemaContext(DbContextOptions<OlderSchemaContext> options, IReadOnlyList<(Type Entity, string Property)> leftOut, bool sqlite)
    : PortalDbContext(options)
{
    public static OlderSchemaContext Create(TestDatabase database, IReadOnlyList<(Type, string)> leftOut) =>
        new((DbContextOptions<OlderSchemaContext>)PortalDatabase.Configure(new DbContextOptionsBuilder<OlderSchemaContext>(), database.Provider, database.ConnectionString)
            .ReplaceService<IModelCacheKeyFactory, NoCache>().Options, leftOut, database.Provider == DatabaseProvider.Sqlite);

    /// <summary>The properties of today's model that the schema at <paramref name="migration"/> does not have.</summary>
    public static IReadOnlyList<(Type, string)> PropertiesNewerThan(PortalDbContext db, string migration)
    {
        var assembly = db.GetService<IMigrationsAssembly>();
        var target = assembly.CreateMigration(assembly.Migrations[migration], db.Database.ProviderName!).TargetModel!;
        return db.Model.GetEntityTypes()
            .Where(e => target.FindEntityType(e.Name) is not null)
            .SelectMany(e => e.GetProperties().Where(p => target.FindEntityType(e.Name)!.FindProperty(p.Name) is null).Select(p => (e.ClrType, p.Name)))
            .ToList();
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        if (sqlite) configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UtcTicksConverter>();
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        foreach (var (entity, property) in leftOut) modelBuilder.Entity(entity).Ignore(property);
    }

    /// <summary>Each instance builds its own model (the properties left out differ from test to test).</summary>
    private sealed class NoCache : IModelCacheKeyFactory
    {
        public object Create(DbContext context, bool designTime) => new object();
    }
}

public sealed class SqliteUniquePermissionEntryTests() : UniquePermissionEntryTests(DatabaseProvider.Sqlite);
public sealed class PostgresUniquePermissionEntryTests() : UniquePermissionEntryTests(DatabaseProvider.PostgreSQL);

/// <summary>SQL Server cannot run here: its migration is checked as a script (merge first, then filtered unique indexes).</summary>
public sealed class SqlServerUniquePermissionEntryMigrationTests
{
    [Fact]
    public void The_SQL_Server_migration_merges_duplicates_before_it_creates_filtered_unique_indexes()
    {
        using var db = new SqlServerPortalDbContext(new DbContextOptionsBuilder<SqlServerPortalDbContext>()
            .UseSqlServer("Server=unreachable.invalid;Database=Portal;TrustServerCertificate=true").Options);
        var migrations = db.Database.GetMigrations().ToList();
        var mine = migrations.Single(m => m.EndsWith("_UniquePermissionEntries"));
        var script = db.GetService<IMigrator>().GenerateScript(migrations[migrations.IndexOf(mine) - 1], mine).ReplaceLineEndings("\n");

        var merge = script.IndexOf("UPDATE [p] SET [Rights]", StringComparison.Ordinal);
        var delete = script.IndexOf("DELETE [p] FROM [PermissionEntries]", StringComparison.Ordinal);
        var userIndex = script.IndexOf("CREATE UNIQUE INDEX [IX_PermissionEntries_FolderId_UserId] ON [PermissionEntries] ([FolderId], [UserId]) WHERE [UserId] IS NOT NULL", StringComparison.Ordinal);
        var groupIndex = script.IndexOf("CREATE UNIQUE INDEX [IX_PermissionEntries_FolderId_GroupId] ON [PermissionEntries] ([FolderId], [GroupId]) WHERE [GroupId] IS NOT NULL", StringComparison.Ordinal);
        Assert.True(merge >= 0 && delete > merge, script);
        Assert.True(userIndex > delete && groupIndex > delete, script);
    }
}
