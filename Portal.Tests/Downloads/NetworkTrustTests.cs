using System.Net;
using Microsoft.EntityFrameworkCore;
using Portal.App.Hosting;
using Portal.Data.Audit;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Downloads;

/// <summary>
/// Issue #25's network-trust gaps, each on a real loopback socket (Kestrel), as a local process would reach the app:
/// forwarded headers believed from loopback, X-Accel and S3 headers handed to a client that is not nginx, monitoring
/// endpoints served to anyone, and a Host header nobody allowed.
/// </summary>
public sealed class NetworkTrustTests : IAsyncLifetime
{
    private readonly SqliteTestDatabase database = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await database.DisposeAsync();

    private static HttpClient Client(Uri address) =>
        new(new SocketsHttpHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = address };

    [Fact]
    public async Task Gap_forwarded_for_from_a_local_client_that_is_not_a_configured_proxy_does_not_set_the_audited_address()
    {
        await using var host = new PortalHost(database, DeliveryMode.Direct);
        var address = host.StartOnKestrel();
        var scenario = await Scenario.CreateAsync(host.Services);
        using var client = Client(address);
        client.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.66");
        await SignIn.AsDemoUserAsync(client, "staff");

        (await client.GetAsync($"/d/{scenario.SharedDocumentId}")).EnsureSuccessStatusCode();

        var download = (await host.AuditEventsAsync()).Last(e => e.Action == AuditAction.DocumentDownloaded);
        Assert.Equal("127.0.0.1", download.ClientIp);
    }

    [Fact]
    public async Task Gap_forwarded_for_is_believed_from_a_configured_proxy()
    {
        await using var host = new PortalHost(database, DeliveryMode.Direct, settings: new Dictionary<string, string?> { ["ForwardedHeaders:KnownProxies"] = "127.0.0.1" });
        var address = host.StartOnKestrel();
        var scenario = await Scenario.CreateAsync(host.Services);
        using var client = Client(address);
        client.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.66");
        await SignIn.AsDemoUserAsync(client, "staff");
        (await client.GetAsync($"/d/{scenario.SharedDocumentId}")).EnsureSuccessStatusCode();
        Assert.Equal("203.0.113.66", (await host.AuditEventsAsync()).Last(e => e.Action == AuditAction.DocumentDownloaded).ClientIp);
    }

    [Fact]
    public async Task Gap_xaccel_headers_go_only_to_a_known_proxy_reached_without_nginx_the_app_sends_the_bytes()
    {
        await using var host = new PortalHost(database, DeliveryMode.XAccel);
        var address = host.StartOnKestrel();
        var scenario = await Scenario.CreateAsync(host.Services);
        using var client = Client(address);
        await SignIn.AsDemoUserAsync(client, "staff");

        using var response = await client.GetAsync($"/d/{scenario.SharedDocumentId}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("X-Accel-Redirect"), "a client that is not nginx was handed the internal redirect");
        Assert.False(response.Headers.Contains("X-Portal-S3-Url"));
        Assert.Equal(scenario.SharedContent, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Gap_metrics_and_readiness_answer_only_configured_networks()
    {
        await using var host = new PortalHost(database, DeliveryMode.Direct, settings: new Dictionary<string, string?>
        {
            ["ForwardedHeaders:KnownProxies"] = "127.0.0.1",
        });
        var address = host.StartOnKestrel();
        using var client = Client(address);

        // The scraper on the app's own host (loopback, the default Monitoring:AllowedNetworks).
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/metrics")).StatusCode);
        // Someone on the internet, through the proxy.
        foreach (var path in new[] { "/metrics", "/health/ready" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { { "X-Forwarded-For", "198.51.100.7" } } };
            Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(request)).StatusCode);
        }
        using var live = new HttpRequestMessage(HttpMethod.Get, "/health/live") { Headers = { { "X-Forwarded-For", "198.51.100.7" } } };
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(live)).StatusCode);
    }

    [Fact]
    public async Task Gap_metrics_from_a_network_that_is_not_configured_is_refused()
    {
        await using var host = new PortalHost(database, DeliveryMode.Direct, settings: new Dictionary<string, string?> { ["Monitoring:AllowedNetworks"] = "10.1.0.0/16" });
        using var client = Client(host.StartOnKestrel());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task Gap_a_host_header_that_is_not_allowed_is_refused_not_reflected()
    {
        await using var host = new PortalHost(database, DeliveryMode.Direct, settings: new Dictionary<string, string?> { ["AllowedHosts"] = "portal.example.org" });
        using var client = Client(host.StartOnKestrel());
        using var request = new HttpRequestMessage(HttpMethod.Get, "/signin") { Headers = { Host = "evil.example" } };
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain("evil.example", response.Headers.Location?.ToString() ?? "");
    }
}
