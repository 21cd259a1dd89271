using System.Net;
using System.Text.Json;
using Portal.Data.Database;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Database;

/// <summary>What a load balancer sees: live while the process runs, ready only when database and storage work.</summary>
public class HealthTests
{
    [Fact]
    public async Task A_working_portal_is_live_and_ready()
    {
        await using var database = new SqliteTestDatabase();
        await using var host = new PortalHost(database);
        var client = host.CreateBrowserLikeClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", body.RootElement.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        Assert.Equal("Healthy", body.RootElement.GetProperty("checks").GetProperty("storage").GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_database_that_went_away_makes_it_not_ready_but_still_live()
    {
        var database = new PostgresTestDatabase();
        await using var host = new PortalHost(database);
        var client = host.CreateBrowserLikeClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);

        await database.DisposeAsync(); // drops the database under the running app

        var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        using var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        Assert.Equal("Unhealthy", body.RootElement.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
    }

    [Fact]
    public async Task Storage_that_cannot_be_written_makes_it_not_ready()
    {
        await using var database = new SqliteTestDatabase();
        await using var host = new PortalHost(database);
        var client = host.CreateBrowserLikeClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);

        // Root ignores file modes, so make the temp folder a file instead: nothing can be written under it.
        var incoming = Path.Combine(host.StorageRoot, ".incoming");
        Directory.Delete(incoming, recursive: true);
        await File.WriteAllTextAsync(incoming, "not a folder");

        var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("\"storage\":{\"status\":\"Unhealthy\"", await ready.Content.ReadAsStringAsync());
        File.Delete(incoming);
    }
}
