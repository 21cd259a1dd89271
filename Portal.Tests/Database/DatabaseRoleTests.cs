using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Portal.Data;
using Portal.Data.Audit;
using Portal.Data.Database;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Database;

/// <summary>
/// Issue #25: the app's own database account could drop the audit triggers. Now migrations run as the owner
/// (Database:MigrationConnectionString) and the app runs as a role with row access only: it cannot DROP TRIGGER,
/// ALTER TABLE or TRUNCATE the audit table, and the audit log still works under it (append, query, sign, retention).
/// </summary>
public sealed class PostgresDatabaseRoleTests : IAsyncLifetime
{
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..10];
    private string Owner => $"portal_owner_{_suffix}";
    private string App => $"portal_app_{_suffix}";
    private string Name => $"portal_roles_{_suffix}";
    private string Server => TestEnvironment.PostgresConnectionString
        ?? throw new InvalidOperationException("PORTAL_TEST_POSTGRES is not set: run the tests with ./test.sh, which starts PostgreSQL.");
    private string As(string user) => new NpgsqlConnectionStringBuilder(Server) { Database = Name, Username = user, Password = "pw" }.ConnectionString;

    public async Task InitializeAsync()
    {
        await using var c = new NpgsqlConnection(Server);
        await c.OpenAsync();
        foreach (var sql in new[]
                 {
                     $"CREATE ROLE {Owner} LOGIN PASSWORD 'pw'", $"CREATE ROLE {App} LOGIN PASSWORD 'pw'",
                     $"CREATE DATABASE {Name} OWNER {Owner}",
                 })
            await new NpgsqlCommand(sql, c).ExecuteNonQueryAsync();
        await using var schema = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(Server) { Database = Name }.ConnectionString);
        await schema.OpenAsync();
        // PostgreSQL 15 leaves CREATE on public to the database owner only; make the owner own the schema too.
        await new NpgsqlCommand($"ALTER SCHEMA public OWNER TO {Owner}", schema).ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var c = new NpgsqlConnection(Server);
        await c.OpenAsync();
        foreach (var sql in new[] { $"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", $"DROP ROLE IF EXISTS {App}", $"DROP ROLE IF EXISTS {Owner}" })
            await new NpgsqlCommand(sql, c).ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task The_apps_role_cannot_drop_triggers_alter_or_truncate_the_audit_table_and_the_audit_log_works_under_it()
    {
        await using (var owner = DatabaseRoles.OwnerContext(DatabaseProvider.PostgreSQL, As(Owner)))
        {
            await owner.Database.MigrateAsync();
            await DatabaseRoles.GrantRowAccessAsync(owner, DatabaseProvider.PostgreSQL, As(App));
        }

        await using var services = new ServiceCollection().AddLogging().AddSingleton(TimeProvider.System)
            .AddPortalDatabase(DatabaseProvider.PostgreSQL, As(App)).AddSingleton<AuditLog>().BuildServiceProvider();
        var contexts = services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
        var audit = services.GetRequiredService<AuditLog>();
        for (var i = 0; i < 5; i++)
            await audit.AppendAsync(new AuditEvent { Action = AuditAction.DocumentDownloaded, Outcome = AuditOutcome.Allowed, TargetName = $"f{i}.pdf" });

        await using var app = new NpgsqlConnection(As(App));
        await app.OpenAsync();
        foreach (var attack in new[]
                 {
                     "DROP TRIGGER \"AuditEvents_NoChange\" ON \"AuditEvents\"",
                     "ALTER TABLE \"AuditEvents\" DISABLE TRIGGER USER",
                     "ALTER TABLE \"AuditEvents\" ADD COLUMN \"Forged\" text",
                     "TRUNCATE \"AuditEvents\"",
                     "DROP TABLE \"AuditSignedHeads\"",
                 })
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(() => new NpgsqlCommand(attack, app).ExecuteNonQueryAsync());
            Assert.True(refused.SqlState is "42501" or "42704", $"{attack}: {refused.SqlState} {refused.MessageText}");
            if (attack.StartsWith("DROP TRIGGER")) Assert.Equal("42501", refused.SqlState); // must be owner, not "no such trigger"
        }
        // Rows: the triggers still refuse an edit.
        await Assert.ThrowsAsync<PostgresException>(() => new NpgsqlCommand("UPDATE \"AuditEvents\" SET \"TargetName\" = 'x'", app).ExecuteNonQueryAsync());

        // What the app does with the audit log works under its role: query, verify, sign a head, apply retention.
        using var key = AuditHeadSigner.FromPem(AuditHeadSigner.NewPrivateKeyPem());
        await using (var db = await contexts.CreateDbContextAsync())
        {
            Assert.Equal(5, await db.AuditEvents.CountAsync(e => e.Action == AuditAction.DocumentDownloaded));
            var end = await db.AuditEvents.OrderByDescending(e => e.Id).FirstAsync();
            db.AuditSignedHeads.Add(key.Sign(end.Id, end.Hash, DateTimeOffset.UtcNow));
            await db.SaveChangesAsync();
        }
        var checkpoints = new AuditCheckpointSigner(Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        var retention = await AuditRetention.ApplyAsync(contexts, checkpoints, new FakeClock(DateTimeOffset.UtcNow.AddDays(3)), new AuditRetentionPeriod(0, 1));
        Assert.Equal(5, retention.RemovedCount);
        await audit.AppendAsync(new AuditEvent { Action = AuditAction.DocumentDownloaded, Outcome = AuditOutcome.Allowed, TargetName = "after.pdf" });
        var verified = await AuditChainVerification.VerifyAsync(contexts, checkpoints, headKey: key);
        Assert.True(verified.FirstBrokenId is null, verified.Describe());
    }
}
