using System.Net;
using Npgsql;
using Portal.App.Hosting;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Database;

/// <summary>
/// The database goes away under a running app and comes back (found by bench/reliability.sh, where PostgreSQL is
/// restarted under load: downloads, pages and uploads answered 500). The app reaches the real PostgreSQL through a
/// loopback relay that the test cuts and restores, as a database restart or a network cut would.
/// </summary>
public sealed class DatabaseOutageTests : IAsyncLifetime
{
    private readonly PostgresTestDatabase database = new();
    private readonly TcpRelay relay = new();
    private PortalHost host = null!;
    private Scenario scenario = null!;

    public async Task InitializeAsync()
    {
        var server = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        relay.Start(server.Host!, server.Port);
        var throughRelay = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Host = "127.0.0.1", Port = relay.Port, Timeout = 3 };
        host = new PortalHost(database, DeliveryMode.Direct, settings: new Dictionary<string, string?> { ["Database:ConnectionString"] = throughRelay.ConnectionString });
        scenario = await Scenario.CreateAsync(host.Services);
    }

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        relay.Dispose();
        await database.DisposeAsync();
    }

    [Fact]
    public async Task While_the_database_is_unreachable_requests_fail_closed_with_503_and_recover_by_themselves()
    {
        var staff = host.CreateBrowserLikeClient();
        await SignIn.AsDemoUserAsync(staff, "staff");
        var admin = host.CreateBrowserLikeClient();
        await SignIn.AsDemoUserForFormsAsync(admin, "admin");
        Assert.Equal(scenario.SharedContent, await staff.GetByteArrayAsync($"/d/{scenario.SharedDocumentId}"));

        relay.Cut();

        var download = await staff.GetAsync($"/d/{scenario.SharedDocumentId}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, download.StatusCode);
        Assert.Equal("5", download.Headers.RetryAfter?.ToString());
        var body = await download.Content.ReadAsStringAsync();
        Assert.DoesNotContain(Scenario.SharedDocumentName, body);
        Assert.DoesNotContain("Npgsql", body);
        // A script or API client gets the problem document; a browser's navigation gets a page (OutageBrowserTests).
        using var asScript = new HttpRequestMessage(HttpMethod.Get, "/");
        asScript.Headers.Accept.ParseAdd("application/json");
        var home = await staff.SendAsync(asScript);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, home.StatusCode);
        Assert.Equal("application/problem+json", home.Content.Headers.ContentType?.MediaType);
        Assert.Contains("cannot reach its database", await home.Content.ReadAsStringAsync());
        var upload = await admin.PostAsync($"/folders/{scenario.SharedFolderId}/documents",
            new MultipartFormDataContent { { new ByteArrayContent([1, 2, 3]), "files", "during-outage.txt" } });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, upload.StatusCode);
        // A person's browser gets a page: a page load offers to load it again; a form's POST does not (a GET there is
        // no retry), it leads back to the portal.
        using var pageLoad = new HttpRequestMessage(HttpMethod.Get, $"/folders/{scenario.SharedFolderId}");
        pageLoad.Headers.Accept.ParseAdd("text/html");
        var loaded = await staff.SendAsync(pageLoad);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, loaded.StatusCode);
        Assert.Contains("<a href=\"\" data-testid=\"plain-page-link\">Try again</a>", await loaded.Content.ReadAsStringAsync());
        using var formPost = new HttpRequestMessage(HttpMethod.Post, $"/folders/{scenario.SharedFolderId}/documents")
        {
            Content = new MultipartFormDataContent { { new ByteArrayContent([1, 2, 3]), "files", "during-outage.txt" } },
        };
        formPost.Headers.Accept.ParseAdd("text/html");
        var posted = await admin.SendAsync(formPost);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, posted.StatusCode);
        Assert.Contains("<a href=\"/\" data-testid=\"plain-page-link\">Back to the portal</a>", await posted.Content.ReadAsStringAsync());

        relay.Restore();

        // Back without restarting the app: the pool opens new connections.
        Assert.Equal(scenario.SharedContent, await staff.GetByteArrayAsync($"/d/{scenario.SharedDocumentId}"));
        var events = await host.AuditEventsAsync();
        Assert.Equal(2, events.Count(e => e.DocumentId == scenario.SharedDocumentId && e.Outcome == Portal.Data.Audit.AuditOutcome.Allowed));
    }
}
