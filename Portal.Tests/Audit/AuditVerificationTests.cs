using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Data;
using Portal.Data.Audit;
using Portal.Data.Database;
using Portal.App.Hosting;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Audit;

/// <summary>`Portal.App verify-audit`, as an operator runs it: the chain holds, then one edited row is named.</summary>
public class AuditVerificationTests
{
    [Fact]
    public async Task The_command_verifies_the_chain_and_names_the_first_edited_event()
    {
        await using var database = new SqliteTestDatabase();
        await using (var host = new PortalHost(database))
        {
            var scenario = await Scenario.CreateAsync(host.Services);
            var staff = host.CreateBrowserLikeClient();
            await SignIn.AsDemoUserAsync(staff, "staff");
            for (var i = 0; i < 5; i++) await staff.GetAsync($"/d/{scenario.SharedDocumentId}");
        }
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development", ["Database__Provider"] = "Sqlite", ["Database__ConnectionString"] = database.ConnectionString,
        };

        var intact = await AppProcess.RunUntilExitAsync(environment, TimeSpan.FromSeconds(60), AuditVerification.Command);
        Assert.Equal(0, intact.ExitCode);
        Assert.Contains("Verified 7 audit events: the chain holds.", intact.StandardOutput);

        // Start-up recorded the settings (#1), then the sign-in and five downloads.
        // Someone with database access edits a row (after dropping the trigger that would refuse it).
        await using (var connection = new SqliteConnection(database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var tamper = connection.CreateCommand();
            tamper.CommandText = "DROP TRIGGER \"AuditEvents_NoUpdate\"; UPDATE \"AuditEvents\" SET \"ClientIp\" = '10.0.0.1' WHERE \"Id\" = 4;";
            await tamper.ExecuteNonQueryAsync();
        }

        var broken = await AppProcess.RunUntilExitAsync(environment, TimeSpan.FromSeconds(60), AuditVerification.Command);
        Assert.Equal(2, broken.ExitCode);
        Assert.Contains("BROKEN at event #4", broken.StandardOutput);
        Assert.Contains("3 events before it verify.", broken.StandardOutput);
    }
}

/// <summary>`Portal.App apply-retention`, as an operator runs it, then `verify-audit` from the checkpoint it left.</summary>
public class AuditRetentionCommandTests
{
    [Fact]
    public async Task Retention_removes_old_events_records_itself_and_the_chain_verifies_from_its_checkpoint()
    {
        await using var database = new SqliteTestDatabase();
        // Four events from seven years ago come first (time never goes backwards along the chain, and start-up records
        // the settings at once), so they are written before the app first starts.
        await using (var old = new ServiceCollection().AddLogging().AddSingleton(TimeProvider.System).AddPortalDatabase(database.Provider, database.ConnectionString).BuildServiceProvider())
        {
            var contexts = old.GetRequiredService<IDbContextFactory<PortalDbContext>>();
            await using (var db = await contexts.CreateDbContextAsync()) await db.Database.MigrateAsync();
            await using var sevenYearsAgo = new AuditLog(contexts, new FakeClock(DateTimeOffset.UtcNow.AddYears(-7)), NullLogger<AuditLog>.Instance);
            for (var i = 0; i < 4; i++) await sevenYearsAgo.AppendAsync(new AuditEvent { Action = AuditAction.SignIn, Outcome = AuditOutcome.Allowed });
        }
        await using (var host = new PortalHost(database))
        {
            await Scenario.CreateAsync(host.Services);
            var staff = host.CreateBrowserLikeClient();
            await SignIn.AsDemoUserAsync(staff, "staff");
        }
        var key = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development", ["Database__Provider"] = "Sqlite", ["Database__ConnectionString"] = database.ConnectionString,
            ["Audit__CheckpointKey"] = key,
        };

        var retention = await AppProcess.RunUntilExitAsync(environment, TimeSpan.FromSeconds(60), AuditRetentionCommand.Command);
        Assert.Equal(0, retention.ExitCode);
        Assert.Contains("Retention period 6 years. Removed 4 audit events", retention.StandardOutput);

        var verify = await AppProcess.RunUntilExitAsync(environment, TimeSpan.FromSeconds(60), AuditVerification.Command);
        Assert.Equal(0, verify.ExitCode);
        Assert.Contains("Verified 3 audit events: the chain holds (from the signed retention checkpoint after event #4).", verify.StandardOutput);

        // Without the key the checkpoint cannot be trusted, and verification says so rather than passing.
        environment.Remove("Audit__CheckpointKey");
        var unkeyed = await AppProcess.RunUntilExitAsync(environment, TimeSpan.FromSeconds(60), AuditVerification.Command);
        Assert.Equal(2, unkeyed.ExitCode);
        Assert.Contains("Audit:CheckpointKey is not set", unkeyed.StandardOutput);
        var refused = await AppProcess.RunUntilExitAsync(environment, TimeSpan.FromSeconds(60), AuditRetentionCommand.Command);
        Assert.Equal(1, refused.ExitCode);

        await using var check = new PortalHost(database);
        var events = await check.AuditEventsAsync();
        Assert.Equal(5, events[0].Id);
        var applied = Assert.Single(events, e => e.Action == AuditAction.AuditRetentionApplied);
        Assert.Contains("Removed 4 audit events", applied.Reason);
        Assert.Contains("\"LastRemovedId\":4", applied.Changes);
        Assert.Equal(2, events.Count(e => e.Action == AuditAction.AuditChainVerified));
    }
}
