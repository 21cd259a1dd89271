using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Portal.App.Downloads;
using Portal.App.Hosting;
using Portal.Data.Downloads;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// The production shape on loopback: the app in XAccel mode with its receipt listener, and real nginx in front
/// of it running ops/nginx's template. Settings per test class (rate limits, concurrency).
/// </summary>
public sealed class NginxStack : IAsyncDisposable
{
    public required TestDatabase Database { get; init; }
    public required PortalHost App { get; init; }
    public required NginxServer Nginx { get; init; }
    public required Scenario Scenario { get; init; }

    public static async Task<NginxStack> StartAsync(IDictionary<string, string?>? settings = null, int sharedSize = 64 * 1024)
    {
        var database = new SqliteTestDatabase();
        // nginx on loopback is the proxy: only it gets X-Accel-Redirect, only its X-Forwarded-For is believed.
        // Receipts over a unix datagram socket only nginx's workers (group www-data) may write to.
        var socket = Path.Combine(TestEnvironment.NewTempFolder("receipts"), "receipts.sock");
        var all = new Dictionary<string, string?>
        {
            ["Delivery:ReceiptSocket"] = socket, ["Delivery:ReceiptSocketGroup"] = "www-data", ["ForwardedHeaders:KnownProxies"] = "127.0.0.1",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) all[k] = v;
        var app = new PortalHost(database, DeliveryMode.XAccel, settings: all);
        var upstream = app.StartOnKestrel();
        var receipts = app.Services.GetRequiredService<DeliveryReceiptListener>().SocketPath!;
        var scenario = await Scenario.CreateAsync(app.Services, sharedSize);
        var nginx = await NginxServer.StartAsync(upstream, app.StorageRoot, $"unix:{receipts}");
        return new NginxStack { Database = database, App = app, Nginx = nginx, Scenario = scenario };
    }

    /// <summary>A cookie-keeping client pointed at nginx, signed in as a demo person.</summary>
    public async Task<HttpClient> SignedInClientAsync(string demoUserKey)
    {
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() })
        {
            BaseAddress = Nginx.Address,
        };
        await SignIn.AsDemoUserAsync(client, demoUserKey);
        return client;
    }

    /// <summary>Waits for nginx's receipt of an audit event (says what nginx logged if none comes).</summary>
    public Task<DeliveryReceipt> ReceiptAsync(long auditEventId) => App.ReceiptAsync(auditEventId, () => $"nginx said:\n{Nginx.Output}");

    public async ValueTask DisposeAsync()
    {
        await Nginx.DisposeAsync();
        await App.DisposeAsync();
        await Database.DisposeAsync();
    }
}
