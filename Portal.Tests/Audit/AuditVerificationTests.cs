using Microsoft.Data.Sqlite;
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
        Assert.Contains("Verified 6 audit events: the chain holds.", intact.StandardOutput);

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
