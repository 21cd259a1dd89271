using System.Net;
using System.Security.Cryptography;
using Portal.App.Hosting;
using Portal.Data.Audit;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.EndToEnd;

/// <summary>
/// The production nginx config in front of the app in XAccel mode: the app authorises and records, nginx sends
/// the bytes from the internal location, and that location cannot be reached from outside.
/// </summary>
public sealed class NginxDeliveryTests : IAsyncLifetime
{
    private TestDatabase database = null!;
    private PortalHost app = null!;
    private NginxServer nginx = null!;
    private Scenario scenario = null!;
    private HttpClient browser = null!;

    public async Task InitializeAsync()
    {
        if (TestEnvironment.NginxPath is null && !TestEnvironment.IsCi) return; // skipped: see NginxFact
        database = new SqliteTestDatabase();
        app = new PortalHost(database, DeliveryMode.XAccel);
        var upstream = app.StartOnKestrel();
        scenario = await Scenario.CreateAsync(app.Services, sharedSize: 1024 * 1024 + 7);
        nginx = await NginxServer.StartAsync(upstream, app.StorageRoot);
        browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() })
        {
            BaseAddress = nginx.Address,
        };
        await SignIn.AsDemoUserAsync(browser, "staff");
    }

    public async Task DisposeAsync()
    {
        browser?.Dispose();
        if (nginx is not null) await nginx.DisposeAsync();
        if (app is not null) await app.DisposeAsync();
        if (database is not null) await database.DisposeAsync();
    }

    [NginxFact]
    public async Task The_production_config_passes_nginx_t()
    {
        var (exitCode, output) = await nginx.TestConfigAsync();
        Assert.True(exitCode == 0, output);
        Assert.Contains("syntax is ok", output);
    }

    [NginxFact]
    public async Task A_download_through_nginx_has_exactly_the_stored_bytes_and_is_audited()
    {
        var response = await browser.GetAsync($"/d/{scenario.SharedDocumentId}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(scenario.SharedContentHash, Convert.ToHexStringLower(SHA256.HashData(body)));
        Assert.Equal(scenario.SharedContent.Length, body.Length);
        Assert.Equal(Scenario.SharedDocumentName, response.Content.Headers.ContentDisposition?.FileName);
        Assert.Equal("application/pdf", response.Content.Headers.ContentType?.MediaType);
        Assert.False(response.Headers.Contains("X-Accel-Redirect"), "nginx consumes the redirect header");
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());

        var e = Assert.Single((await app.AuditEventsAsync()).Where(a => a.Action == AuditAction.DocumentDownloaded));
        Assert.Equal((AuditOutcome.Allowed, scenario.SharedDocumentId), (e.Outcome, e.DocumentId));
        Assert.Equal("127.0.0.1", e.ClientIp);
    }

    [NginxFact]
    public async Task Nginx_answers_a_range_from_the_file_with_206()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/d/{scenario.SharedDocumentId}");
        request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(1000, 1999);
        var response = await browser.SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(scenario.SharedContent[1000..2000], await response.Content.ReadAsByteArrayAsync());
    }

    [NginxFact]
    public async Task A_forbidden_download_through_nginx_serves_nothing()
    {
        var response = await browser.GetAsync($"/d/{scenario.RestrictedDocumentId}");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.DoesNotContain("confidential", await response.Content.ReadAsStringAsync());
        Assert.Null(response.Content.Headers.ContentDisposition);
    }

    [NginxTheory]
    [InlineData("/_protected/{key}")]
    [InlineData("/_protected/{dir}/")]
    [InlineData("/_protected/../_protected/{key}")]
    [InlineData("/x/..%2f_protected/{key}")]
    [InlineData("/%5fprotected/{key}")]
    [InlineData("/_protected%2f{key}")]
    [InlineData("/_protected/{dir}%2f{hash}")]
    [InlineData("/_protected/%2e%2e/{key}")]
    [InlineData("/_protected/%252e%252e/{key}")]
    [InlineData("/_protected/{key}%00")]
    [InlineData("/_protected/.incoming/")]
    public async Task The_internal_location_cannot_be_reached_directly(string pathTemplate)
    {
        var hash = scenario.SharedContentHash;
        var key = $"{hash[..2]}/{hash[2..4]}/{hash}";
        var path = pathTemplate.Replace("{key}", key).Replace("{dir}", $"{hash[..2]}/{hash[2..4]}").Replace("{hash}", hash);
        using var anonymous = new HttpClient { BaseAddress = nginx.Address };

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(nginx.Address, new Uri(path, UriKind.Relative)));
        var response = await anonymous.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.NotEqual(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.NotEqual(scenario.SharedContentHash, Convert.ToHexStringLower(SHA256.HashData(body)));
        Assert.True(body.Length < 64 * 1024, "no file bytes in the answer");
    }

    [NginxFact]
    public async Task A_plain_direct_request_to_the_internal_location_answers_404()
    {
        var hash = scenario.SharedContentHash;
        using var anonymous = new HttpClient { BaseAddress = nginx.Address };
        var response = await anonymous.GetAsync($"/_protected/{hash[..2]}/{hash[2..4]}/{hash}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
