using System.Net;
using System.Net.Sockets;

namespace Portal.Tests.Infrastructure;

/// <summary>A loopback TCP relay to the database that can be cut (every connection closed, new ones refused) and restored.</summary>
public sealed class TcpRelay : IDisposable
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
