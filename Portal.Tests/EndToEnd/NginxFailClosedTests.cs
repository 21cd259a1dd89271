using System.Net;
using Microsoft.Data.Sqlite;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.EndToEnd;

/// <summary>Through real nginx: when the database refuses the audit write, the download fails closed.</summary>
public sealed class NginxFailClosedTests : IAsyncLifetime
{
    private NginxStack stack = null!;

    public async Task InitializeAsync()
    {
        if (TestEnvironment.NginxPath is null && !TestEnvironment.IsCi) return; // skipped: see NginxFact
        stack = await NginxStack.StartAsync(sharedSize: 256 * 1024);
    }

    public async Task DisposeAsync()
    {
        if (stack is not null) await stack.DisposeAsync();
    }

    [NginxFact]
    public async Task A_database_that_refuses_the_audit_write_gets_503_through_nginx_and_no_bytes_are_served()
    {
        using var staff = await stack.SignedInClientAsync("staff");
        var first = await staff.GetAsync($"/d/{stack.Scenario.SharedDocumentId}");
        Assert.Equal(stack.Scenario.SharedContent, await first.Content.ReadAsByteArrayAsync());
        var before = (await stack.App.AuditEventsAsync()).Count;

        // From now on the database refuses every new audit row (as a full disk or a lost primary would).
        await using (var connection = new SqliteConnection(stack.Database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var refuse = connection.CreateCommand();
            refuse.CommandText = "CREATE TRIGGER refuse_audit BEFORE INSERT ON \"AuditEvents\" BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;";
            await refuse.ExecuteNonQueryAsync();
        }

        var response = await staff.GetAsync($"/d/{stack.Scenario.SharedDocumentId}");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.False(response.Headers.Contains("X-Accel-Redirect"));
        Assert.Null(response.Content.Headers.ContentDisposition);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(body.Length < 2048, $"{body.Length} bytes came back");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(before, (await stack.App.AuditEventsAsync()).Count);
    }
}
