using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Portal.Data;
using Portal.Data.Database;
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

        var path = PermissionService.GrantsOnFolders(db, user, [Guid.NewGuid(), Guid.NewGuid()]).ToQueryString();
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
