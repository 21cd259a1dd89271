using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// A real nginx on a free loopback port, running ops/nginx's production template rendered as the official image
/// renders it (envsubst of the PORTAL_* names), inside a main config that keeps pid, logs and temp files in a run folder.
/// </summary>
public sealed class NginxServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _nginx;

    public string RunFolder { get; }
    public Uri Address { get; }
    public string ConfigPath => Path.Combine(RunFolder, "nginx.conf");

    private readonly System.Text.StringBuilder _output;

    private NginxServer(string nginx, string runFolder, Uri address, Process process, System.Text.StringBuilder output)
    {
        _nginx = nginx; RunFolder = runFolder; Address = address; _process = process; _output = output;
    }

    /// <summary>What nginx wrote to stdout and stderr so far (its JSON access log goes to stdout).</summary>
    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>
    /// Renders the config for <paramref name="upstream"/>, <paramref name="storageRoot"/> and the app's receipt
    /// listener <paramref name="receipts"/> (host:port), checks it (nginx -t) and starts nginx.
    /// </summary>
    public static Task<NginxServer> StartAsync(Uri upstream, string storageRoot, string receipts = "127.0.0.1:9") =>
        StartAsync([upstream], storageRoot, receipts);

    /// <summary>The same in front of several app instances (the template's upstream gets one server line each).</summary>
    public static async Task<NginxServer> StartAsync(IReadOnlyList<Uri> upstreams, string storageRoot, string receipts = "127.0.0.1:9")
    {
        // nginx cannot be told "any free port", so a free one is picked here; another test's server may take it
        // before nginx binds it. Then nginx exits saying so, and it gets another port.
        for (var attempt = 1; ; attempt++)
        {
            var started = await TryStartAsync(upstreams, storageRoot, receipts);
            if (started.Server is { } server) return server;
            if (!started.PortTaken || attempt == 3) throw new InvalidOperationException($"nginx exited: {started.Log}");
        }
    }

    private static async Task<(NginxServer? Server, bool PortTaken, string Log)> TryStartAsync(
        IReadOnlyList<Uri> upstreams, string storageRoot, string receipts)
    {
        var nginx = NginxOrThrow();
        var port = FreePort();
        var run = await RenderAsync(new Dictionary<string, string>
        {
            ["PORTAL_LISTEN"] = $"127.0.0.1:{port}",
            // In compose one name resolves to every replica; here each instance is its own "server" line.
            ["PORTAL_UPSTREAM"] = string.Join(";\n    server ", upstreams.Select(u => $"{u.Host}:{u.Port}")),
            ["PORTAL_STORAGE_ROOT"] = storageRoot.TrimEnd('/'),
            ["PORTAL_RECEIPTS"] = receipts,
            ["PORTAL_RESOLVER"] = "127.0.0.1", // the test S3 endpoint is an address: nothing to resolve
        });

        var check = await CheckAsync(nginx, run);
        if (check.ExitCode != 0) throw new InvalidOperationException($"nginx -t failed:\n{check.Output}");

        var process = Process.Start(new ProcessStartInfo(nginx, ["-p", run, "-c", Path.Combine(run, "nginx.conf"), "-e", Path.Combine(run, "error.log"), "-g", "daemon off;"])
        {
            RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
        })!;
        // The JSON access log goes to stdout: keep reading it so nginx never blocks on a full pipe.
        var log = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        // nginx writes its pid file once its listening sockets are bound: a connect alone could reach whoever
        // took the port instead. (nginx -t above wrote one too, with its own pid.)
        var pidFile = Path.Combine(run, "nginx.pid");
        for (var i = 0; i < 200; i++)
        {
            if (process.HasExited)
            {
                await process.WaitForExitAsync();
                var errors = log + ReadOrEmpty(Path.Combine(run, "error.log"));
                process.Dispose();
                try { Directory.Delete(run, recursive: true); } catch (IOException) { }
                return (null, errors.Contains("Address already in use"), errors);
            }
            if (ReadOrEmpty(pidFile).Trim() == process.Id.ToString()) return (new NginxServer(nginx, run, new Uri($"http://127.0.0.1:{port}"), process, log), false, "");
            await Task.Delay(50);
        }
        process.Kill(entireProcessTree: true);
        throw new TimeoutException($"nginx did not start listening within 10 s: {log}");
    }

    private static string ReadOrEmpty(string path)
    {
        try { return File.ReadAllText(path); }
        catch (IOException) { return ""; } // not there yet, or being written
    }

    /// <summary>nginx -t on the rendered config: the production template must pass nginx's own check.</summary>
    public Task<(int ExitCode, string Output)> TestConfigAsync() => CheckAsync(_nginx, RunFolder);

    /// <summary>nginx -t on the production template rendered with these PORTAL_* values (nothing is started).</summary>
    public static async Task<(int ExitCode, string Output)> CheckTemplateAsync(IReadOnlyDictionary<string, string> variables)
    {
        var run = await RenderAsync(variables);
        try { return await CheckAsync(NginxOrThrow(), run); }
        finally { Directory.Delete(run, recursive: true); }
    }

    private static string NginxOrThrow() =>
        TestEnvironment.NginxPath ?? throw new InvalidOperationException("nginx is not installed: run ./test.sh, which installs it.");

    private static Task<(int ExitCode, string Output)> CheckAsync(string nginx, string run) =>
        RunAsync(nginx, "-t", "-p", run, "-c", Path.Combine(run, "nginx.conf"), "-e", Path.Combine(run, "error.log"));

    /// <summary>
    /// Renders ops/nginx/templates/default.conf.template with <paramref name="variables"/> (as envsubst does in the
    /// nginx image) into a new run folder, inside a main config of the tests' own; returns the folder.
    /// </summary>
    private static async Task<string> RenderAsync(IReadOnlyDictionary<string, string> variables)
    {
        var run = TestEnvironment.NewTempFolder("nginx");
        foreach (var temp in new[] { "body", "proxy", "fastcgi", "uwsgi", "scgi" }) Directory.CreateDirectory(Path.Combine(run, "tmp", temp));
        var server = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "nginx", "default.conf.template"));
        foreach (var (name, value) in variables) server = server.Replace("${" + name + "}", value);
        if (System.Text.RegularExpressions.Regex.Match(server, @"\$\{PORTAL_\w+\}") is { Success: true } unset)
            throw new InvalidOperationException($"The nginx template uses {unset.Value}, which was not given a value.");
        await File.WriteAllTextAsync(Path.Combine(run, "portal.conf"), server);
        await File.WriteAllTextAsync(Path.Combine(run, "nginx.conf"), $$"""
            worker_processes 1;
            # Workers as www-data (as Debian's nginx): the app's receipt socket is writable by that group only, so a
            # test can send a forged receipt as another user (nobody) and see it refused.
            user www-data www-data;
            pid {{run}}/nginx.pid;
            error_log {{run}}/error.log info;
            events { worker_connections 256; }
            http {
                include /etc/nginx/mime.types;
                default_type application/octet-stream;
                access_log {{run}}/access.log;
                client_body_temp_path {{run}}/tmp/body;
                proxy_temp_path {{run}}/tmp/proxy;
                fastcgi_temp_path {{run}}/tmp/fastcgi;
                uwsgi_temp_path {{run}}/tmp/uwsgi;
                scgi_temp_path {{run}}/tmp/scgi;
                include {{run}}/portal.conf;
            }
            """);
        return run;
    }


    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await RunAsync(_nginx, "-s", "stop", "-p", RunFolder, "-c", ConfigPath, "-e", Path.Combine(RunFolder, "error.log"));
            if (!_process.WaitForExit(5000)) _process.Kill(entireProcessTree: true);
        }
        _process.Dispose();
        try { Directory.Delete(RunFolder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false })!;
        var output = await p.StandardError.ReadToEndAsync() + await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, output);
    }
}
