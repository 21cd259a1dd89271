using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Forwarding;

/// <summary>
/// A real rsyslogd (Debian's package) listening with imtcp on a loopback port, plain or TLS (gnutls), writing the
/// message part of every "portal" message, one per line, to a file. Stopped and started again on the same port.
/// </summary>
public sealed class RsyslogServer : IAsyncDisposable
{
    public const string Binary = "/usr/sbin/rsyslogd";
    private Process? _process;
    private readonly string _run;
    private readonly TestCertificates? _tls;

    public int Port { get; }
    public string ReceivedFile => Path.Combine(_run, "received.log");

    private RsyslogServer(string run, int port, TestCertificates? tls) { _run = run; Port = port; _tls = tls; }

    public static async Task<RsyslogServer> StartAsync(TestCertificates? tls = null, string? run = null)
    {
        var server = new RsyslogServer(run ?? TestEnvironment.NewTempFolder("rsyslog"), FreePort(), tls);
        await server.StartAgainAsync();
        return server;
    }

    public async Task StartAgainAsync()
    {
        var tlsGlobal = _tls is null ? "" :
            $" DefaultNetstreamDriver=\"gtls\" DefaultNetstreamDriverCAFile=\"{_tls.CaPem}\" DefaultNetstreamDriverCertFile=\"{_tls.ServerCertPem}\" DefaultNetstreamDriverKeyFile=\"{_tls.ServerKeyPem}\"";
        var tlsModule = _tls is null ? "" : " StreamDriver.Name=\"gtls\" StreamDriver.Mode=\"1\" StreamDriver.AuthMode=\"anon\"";
        var config = $$"""
            global(workDirectory="{{_run}}"{{tlsGlobal}})
            module(load="imtcp"{{tlsModule}})
            input(type="imtcp" port="{{Port}}" address="127.0.0.1")
            template(name="portalMessage" type="string" string="%msg%\n")
            if $app-name == "portal" then {
              action(type="omfile" file="{{ReceivedFile}}" template="portalMessage")
            }
            """;
        var configPath = Path.Combine(_run, "rsyslog.conf");
        await File.WriteAllTextAsync(configPath, config);
        var start = new ProcessStartInfo(Binary, ["-n", "-f", configPath, "-i", Path.Combine(_run, "rsyslog.pid")])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        _process = Process.Start(start)!;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        for (var i = 0; i < 100; i++)
        {
            if (_process.HasExited) throw new InvalidOperationException($"rsyslogd exited with {_process.ExitCode}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) { await Task.Delay(100); }
        }
        throw new TimeoutException("rsyslogd did not listen");
    }

    /// <summary>Stops rsyslogd (SIGTERM, as an operator's restart does) and waits for it to exit.</summary>
    public async Task StopAsync()
    {
        if (_process is null || _process.HasExited) return;
        Process.Start("kill", ["-TERM", _process.Id.ToString()])!.WaitForExit();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await _process.WaitForExitAsync(timeout.Token);
        _process = null;
    }

    /// <summary>The JSON events received so far, in arrival order.</summary>
    public IReadOnlyList<JsonElement> Received()
    {
        if (!File.Exists(ReceivedFile)) return [];
        using var stream = new FileStream(ReceivedFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var events = new List<JsonElement>();
        while (reader.ReadLine() is { } line)
            if (line.Trim() is { Length: > 0 } json) events.Add(JsonDocument.Parse(json).RootElement.Clone());
        return events;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false }) _process.Kill();
        if (_process is not null) await _process.WaitForExitAsync();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

public sealed class RsyslogFactAttribute : FactAttribute
{
    public RsyslogFactAttribute() => Skip = TestEnvironment.SkipReason(File.Exists(RsyslogServer.Binary), "rsyslogd");
}
