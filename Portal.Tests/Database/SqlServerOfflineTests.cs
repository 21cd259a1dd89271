using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Portal.Data;
using Portal.Data.Database;
using Portal.Data.Folders;
using Portal.Data.Permissions;

namespace Portal.Tests.Database;

/// <summary>
/// SQL Server cannot run here, so it is checked offline: its migrations produce a script, and the app's
/// queries translate under its provider. Nothing here opens a connection.
/// </summary>
public class SqlServerOfflineTests
{
    private static PortalDbContext NewContext() =>
        new SqlServerPortalDbContext(new DbContextOptionsBuilder<SqlServerPortalDbContext>()
            .UseSqlServer("Server=unreachable.invalid;Database=Portal;TrustServerCertificate=true").Options);

    [Fact]
    public void The_migrations_script_creates_every_table()
    {
        using var db = NewContext();
        var script = db.GetService<IMigrator>().GenerateScript(options: MigrationsSqlGenerationOptions.Idempotent);

        foreach (var table in new[] { "Folders", "Documents", "Users", "Groups", "GroupMemberships", "PermissionEntries", "AuditEvents" })
            Assert.Contains($"CREATE TABLE [{table}]", script);
        // Audit ids are assigned by the writer, consecutively (chain order = id order): no IDENTITY there.
        Assert.Contains("CREATE TABLE [AuditEvents] (\n        [Id] bigint NOT NULL,", script.ReplaceLineEndings("\n"));
        // The database itself refuses changes to the audit log.
        Assert.Contains("INSTEAD OF UPDATE, DELETE", script);
        Assert.NotEmpty(db.Database.GetMigrations());
    }

    [Fact]
    public void The_model_has_no_changes_missing_from_the_migrations_of_any_provider()
    {
        foreach (var db in new PortalDbContext[]
        {
            NewContext(),
            new SqlitePortalDbContext(new DbContextOptionsBuilder<SqlitePortalDbContext>().UseSqlite("Data Source=:memory:").Options),
            new PostgresPortalDbContext(new DbContextOptionsBuilder<PostgresPortalDbContext>().UseNpgsql("Host=unreachable.invalid").Options),
        })
        {
            using (db) Assert.False(db.Database.HasPendingModelChanges(), $"{db.GetType().Name}: run dotnet ef migrations add");
        }
    }

    [Fact]
    public void The_permission_queries_translate()
    {
        using var db = NewContext();
        var user = Guid.NewGuid();

        var path = PermissionService.GrantsOnFolders(2).Compile()(db, user, Folder.ChildPath(Folder.ChildPath(null, Guid.NewGuid()), Guid.NewGuid())).ToQueryString();
        var all = PermissionService.UserGrants(db, user).ToQueryString();

        Assert.Contains("[GroupMemberships]", path);
        Assert.Contains("[PermissionEntries]", all);
    }

    [Fact]
    public void The_audit_append_query_translates()
    {
        using var db = NewContext();
        var sql = db.AuditEvents.OrderByDescending(e => e.Id).Select(e => e.Hash).Take(1).ToQueryString();
        Assert.Contains("ORDER BY [a].[Id] DESC", sql);
    }
}

/// <summary>
/// Every LINQ query the app compiles in any test is translated under SQL Server as well (see
/// <see cref="Infrastructure.SqlServerTranslationCheck"/>). These tests show that the check runs and can fail.
/// </summary>
public sealed class SqlServerTranslationOfAppQueriesTests
{
    [Fact]
    public async Task A_query_that_SQL_Server_cannot_translate_fails_the_test_that_ran_it()
    {
        await using var data = await Infrastructure.DataServices.CreateAsync(DatabaseProvider.Sqlite);
        await using var db = await data.Contexts.CreateDbContextAsync();
        // GLOB exists only in SQLite: fine there, not under SQL Server.
        var glob = db.Users.Where(u => EF.Functions.Glob(u.DisplayName, "A*"));

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => glob.ToListAsync());
        Assert.Contains("does not translate under SQL Server", failure.Message);
        Assert.Contains("Glob", failure.Message);
    }

    [Fact]
    public async Task The_queries_of_a_tour_through_the_app_all_translate_and_touch_every_table_it_reads()
    {
        var check = Infrastructure.SqlServerTranslationCheck.Instance;
        await using var database = new Infrastructure.SqliteTestDatabase();
        await using var host = new Infrastructure.PortalHost(database);
        var scenario = await Infrastructure.Scenario.CreateAsync(host.Services);

        using (var staff = host.CreateBrowserLikeClient())
        {
            await Infrastructure.SignIn.AsDemoUserAsync(staff, "staff");
            Assert.Equal(System.Net.HttpStatusCode.OK, (await staff.GetAsync("/")).StatusCode);
            Assert.Equal(System.Net.HttpStatusCode.OK, (await staff.GetAsync($"/d/{scenario.SharedDocumentId}")).StatusCode);
            Assert.Equal(System.Net.HttpStatusCode.Forbidden, (await staff.GetAsync($"/d/{scenario.RestrictedDocumentId}")).StatusCode);
        }
        using (var compliance = host.CreateBrowserLikeClient())
        {
            await Infrastructure.SignIn.AsDemoUserAsync(compliance, "compliance");
            Assert.Equal(System.Net.HttpStatusCode.OK, (await compliance.GetAsync("/audit")).StatusCode);
        }

        // Each table the tour reads was queried, and each of those queries has SQL Server SQL.
        var sql = check.Translated.Values.ToList();
        foreach (var table in new[] { "[Users]", "[Sessions]", "[Documents]", "[Folders]", "[PermissionEntries]", "[GroupMemberships]", "[AuditEvents]" })
            Assert.True(sql.Any(s => s.Contains(table)), $"no query read {table}");
        Assert.All(sql, s => Assert.Contains("SELECT", s));
    }
}
