using System.Net;
using Portal.App.Hosting;
using Portal.Data.Alerts;
using Portal.Data.Audit;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Alerts;

/// <summary>Downloads through two app instances on one PostgreSQL: one alert, at the threshold, raised once.</summary>
public sealed class TwoInstanceAlertTests : IAsyncLifetime
{
    private TestDatabase database = null!;
    private PortalHost first = null!, second = null!;
    private Uri firstAddress = null!, secondAddress = null!;

    public async Task InitializeAsync()
    {
        database = new PostgresTestDatabase();
        // XAccel behind a proxy on loopback (X-Accel answers go only to a known proxy): the instances keep separate
        // storage folders, and neither reads the bytes.
        var behindProxy = new Dictionary<string, string?> { ["ForwardedHeaders:KnownProxies"] = "127.0.0.1" };
        first = new PortalHost(database, DeliveryMode.XAccel, settings: behindProxy);
        firstAddress = first.StartOnKestrel();
        second = new PortalHost(database, DeliveryMode.XAccel, settings: behindProxy);
        secondAddress = second.StartOnKestrel();
    }

    public async Task DisposeAsync()
    {
        await second.DisposeAsync();
        await first.DisposeAsync();
        await database.DisposeAsync();
    }

    [Fact]
    public async Task A_burst_split_across_two_instances_fires_once_at_its_threshold()
    {
        var scenario = await Scenario.CreateAsync(first.Services);
        using var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = firstAddress };
        await SignIn.AsDemoUserAsync(client, "staff");
        await AlertTesting.AddRuleAsync(first, new AlertRule { Name = "Mass download", Kind = AlertRuleKind.DownloadBurst, Threshold = 10, WindowMinutes = 10 });
        await AlertTesting.AddRuleAsync(second, new AlertRule { Name = "Probing", Kind = AlertRuleKind.DeniedBurst, Threshold = 4, WindowMinutes = 10 });

        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            client.GetAsync(new Uri(i % 2 == 0 ? firstAddress : secondAddress, $"/d/{scenario.SharedDocumentId}"))));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        for (var i = 0; i < 4; i++)
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync(new Uri(i % 2 == 0 ? firstAddress : secondAddress, $"/d/{scenario.RestrictedDocumentId}"))).StatusCode);
        await AlertTesting.EvaluatedAsync(first);
        Assert.Empty(await AlertTesting.AlertsAsync(first));

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri(secondAddress, $"/d/{scenario.SharedDocumentId}"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync(new Uri(firstAddress, $"/d/{scenario.RestrictedDocumentId}"))).StatusCode);
        await AlertTesting.EvaluatedAsync(first);
        await Task.Delay(1500); // both evaluators had their turn: still one alert per rule
        await AlertTesting.EvaluatedAsync(first);

        var alerts = await AlertTesting.AlertsAsync(first);
        Assert.Equal(2, alerts.Count);
        Assert.Single(alerts, a => a.RuleKind == AlertRuleKind.DownloadBurst);
        Assert.Single(alerts, a => a.RuleKind == AlertRuleKind.DeniedBurst);
        var events = await first.AuditEventsAsync();
        Assert.Equal(2, events.Count(e => e.Action == AuditAction.AlertRaised));
        Assert.Null(AuditChain.FindFirstBroken(events));
    }
}
