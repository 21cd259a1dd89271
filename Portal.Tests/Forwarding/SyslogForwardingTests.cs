using Microsoft.Extensions.DependencyInjection;
using System.Net;
using Portal.App.Hosting;
using Portal.Data.Audit;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Forwarding;

/// <summary>Audit events forwarded to a real rsyslogd over TCP and over TLS, through an outage of the receiver.</summary>
public sealed class SyslogForwardingTests
{
    private static Dictionary<string, string?> SyslogSink(int port, TestCertificates? tls = null) => new()
    {
        ["Forwarding:Sinks:siem:Kind"] = "Syslog",
        ["Forwarding:Sinks:siem:Address"] = $"127.0.0.1:{port}",
        ["Forwarding:Sinks:siem:Tls"] = tls is null ? "false" : "true",
        ["Forwarding:Sinks:siem:CaCertificate"] = tls?.CaPem,
        ["Forwarding:Sinks:siem:SettleSeconds"] = "1",
        ["Forwarding:MaxBackoffSeconds"] = "2",
        ["Forwarding:LeaseSeconds"] = "5",
    };

    [RsyslogFact]
    public async Task Every_event_reaches_rsyslog_in_order_across_a_stop_and_start_during_a_burst_of_downloads()
    {
        await using var rsyslog = await RsyslogServer.StartAsync();
        await using var database = new SqliteTestDatabase();
        await using var app = new PortalHost(database, settings: SyslogSink(rsyslog.Port));
        var scenario = await Scenario.CreateAsync(app.Services);
        using var client = app.CreateBrowserLikeClient();
        await SignIn.AsDemoUserAsync(client, "staff");

        var done = 0;
        var burst = Task.Run(async () =>
        {
            for (var i = 0; i < 150; i++)
            {
                var answer = await client.GetAsync($"/d/{scenario.SharedDocumentId}");
                Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
                Interlocked.Increment(ref done);
                await Task.Delay(10);
            }
        });
        while (Volatile.Read(ref done) < 40) await Task.Delay(10);
        await rsyslog.StopAsync();
        while (Volatile.Read(ref done) < 100 && !burst.IsCompleted) await Task.Delay(10);
        await Task.Delay(1500); // down long enough for the forwarder to notice and back off
        await rsyslog.StartAgainAsync();
        await burst;

        await ForwardingAssertions.AllArrivedInOrderAsync(app.AuditEventsAsync, rsyslog.Received, TimeSpan.FromSeconds(60));
        var downloads = rsyslog.Received().Where(e => e.GetProperty("action").GetString() == nameof(AuditAction.DocumentDownloaded))
            .Select(e => e.GetProperty("id").GetInt64()).Distinct().Count();
        Assert.Equal(150, downloads);
    }

    [RsyslogFact]
    public async Task Events_reach_rsyslog_over_TLS_with_a_certificate_from_the_configured_CA()
    {
        var folder = TestEnvironment.NewTempFolder("rsyslog-tls");
        var certificates = TestCertificates.Create(folder);
        await using var rsyslog = await RsyslogServer.StartAsync(certificates, folder);
        await using var database = new SqliteTestDatabase();
        await using var app = new PortalHost(database, settings: SyslogSink(rsyslog.Port, certificates));
        var scenario = await Scenario.CreateAsync(app.Services);
        using var client = app.CreateBrowserLikeClient();
        await SignIn.AsDemoUserAsync(client, "staff");
        for (var i = 0; i < 20; i++) Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/d/{scenario.SharedDocumentId}")).StatusCode);

        await ForwardingAssertions.AllArrivedInOrderAsync(app.AuditEventsAsync, rsyslog.Received, TimeSpan.FromSeconds(30));
    }

    [RsyslogFact]
    public async Task A_receiver_whose_certificate_the_configured_CA_did_not_sign_gets_nothing_and_the_page_says_why()
    {
        var folder = TestEnvironment.NewTempFolder("rsyslog-tls-wrong");
        var certificates = TestCertificates.Create(folder);
        var other = TestCertificates.Create(TestEnvironment.NewTempFolder("other-ca"));
        await using var rsyslog = await RsyslogServer.StartAsync(certificates, folder);
        await using var database = new SqliteTestDatabase();
        await using var app = new PortalHost(database, settings: SyslogSink(rsyslog.Port, other));
        await Scenario.CreateAsync(app.Services);

        var status = app.Services.GetRequiredService<Portal.App.Forwarding.ForwardingStatus>();
        Portal.App.Forwarding.SinkLag? lag = null;
        for (var i = 0; i < 100 && lag?.LastError is null; i++)
        {
            await Task.Delay(100);
            lag = (await status.ReadAsync()).Single();
        }
        Assert.NotNull(lag?.LastError);
        Assert.True(lag!.EventsBehind > 0);
        Assert.Empty(rsyslog.Received());
    }
}
