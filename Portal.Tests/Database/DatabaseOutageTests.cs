using System.Net;
using System.Net.Sockets;
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
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await staff.GetAsync("/")).StatusCode);
        var upload = await admin.PostAsync($"/folders/{scenario.SharedFolderId}/documents",
            new MultipartFormDataContent { { new ByteArrayContent([1, 2, 3]), "files", "during-outage.txt" } });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, upload.StatusCode);

        relay.Restore();

        // Back without restarting the app: the pool opens new connections.
        Assert.Equal(scenario.SharedContent, await staff.GetByteArrayAsync($"/d/{scenario.SharedDocumentId}"));
        var events = await host.AuditEventsAsync();
        Assert.Equal(2, events.Count(e => e.DocumentId == scenario.SharedDocumentId && e.Outcome == Portal.Data.Audit.AuditOutcome.Allowed));
    }

    /// <summary>A loopback TCP relay to the database that can be cut (every connection closed, new ones refused) and restored.</summary>
    private sealed class TcpRelay : IDisposable
    {
        private readonly List<TcpClient> _open = [];
        private TcpListener? _listener;
        private string _host = "";
        private int _target;

        public int Port { get; private set; }

        public void Start(string host, int port)
        {
            (_host, _target) = (host, port);
            Listen(0);
        }

        public void Cut()
        {
            _listener?.Stop();
            _listener = null;
            lock (_open)
            {
                foreach (var c in _open) c.Dispose();
                _open.Clear();
            }
        }

        public void Restore() => Listen(Port);

        public void Dispose() => Cut();

        private void Listen(int port)
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Start();
            Port = ((IPEndPoint)listener.LocalEndpoint).Port;
            _listener = listener;
            _ = Task.Run(async () =>
            {
                while (true)
                {
                    TcpClient client;
                    try { client = await listener.AcceptTcpClientAsync(); }
                    catch (Exception e) when (e is SocketException or ObjectDisposedException) { return; }
                    var server = new TcpClient();
                    try { await server.ConnectAsync(_host, _target); }
                    catch (SocketException) { client.Dispose(); server.Dispose(); continue; }
                    lock (_open) { _open.Add(client); _open.Add(server); }
                    _ = Pipe(client, server);
                    _ = Pipe(server, client);
                }
            });
        }

        private static async Task Pipe(TcpClient from, TcpClient to)
        {
            try { await from.GetStream().CopyToAsync(to.GetStream()); }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException) { }
            from.Dispose();
            to.Dispose();
        }
    }
}
