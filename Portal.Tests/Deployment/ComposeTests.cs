using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Deployment;

/// <summary>
/// No Docker engine runs here, so docker-compose.yml and the Dockerfile are checked offline: the compose file
/// parses with the variables .env.example names, every file it names exists, its nginx config passes nginx -t, and
/// the Dockerfile builds with the commands the test script runs.
/// </summary>
public sealed class ComposeTests
{
    private static readonly string Repository = FindRepository();

    [Fact]
    public async Task The_compose_file_parses_with_the_variables_env_example_names()
    {
        var compose = await ComposeConfigAsync();
        var services = compose.GetProperty("services");

        foreach (var name in new[] { "nginx", "app", "sqlserver", "keycloak" })
            Assert.True(services.TryGetProperty(name, out _), $"no {name} service");
        var app = services.GetProperty("app");
        Assert.Equal(2, app.GetProperty("deploy").GetProperty("replicas").GetInt32());
        Assert.Equal("service_healthy", app.GetProperty("depends_on").GetProperty("sqlserver").GetProperty("condition").GetString());
        Assert.True(services.GetProperty("sqlserver").GetProperty("healthcheck").GetProperty("test").GetArrayLength() > 0);

        // One documents volume: the app writes it, nginx reads it (and only reads it).
        Assert.Contains(Volumes(app), v => v.Source == "documents" && !v.ReadOnly);
        Assert.Contains(Volumes(services.GetProperty("nginx")), v => v.Source == "documents" && v.ReadOnly);
        // nginx is the one trusted proxy, at the address the app trusts.
        var nginxAddress = services.GetProperty("nginx").GetProperty("networks").GetProperty("portal").GetProperty("ipv4_address").GetString();
        Assert.Equal(nginxAddress, app.GetProperty("environment").GetProperty("ForwardedHeaders__KnownProxies").GetString());
    }

    [Fact]
    public async Task Issue_25_the_app_runs_as_a_rows_only_role_behind_allowed_hosts_with_receipts_on_a_socket_and_a_signing_key()
    {
        var services = (await ComposeConfigAsync()).GetProperty("services");
        var app = services.GetProperty("app").GetProperty("environment");
        Assert.False(string.IsNullOrEmpty(app.GetProperty("AllowedHosts").GetString()));
        Assert.NotEqual("*", app.GetProperty("AllowedHosts").GetString());
        // Migrations as the owner (sa), the app as portal_app.
        Assert.Contains("User Id=portal_app;", app.GetProperty("Database__ConnectionString").GetString());
        Assert.Contains("User Id=sa;", app.GetProperty("Database__MigrationConnectionString").GetString());
        Assert.Equal("service_completed_successfully", services.GetProperty("app").GetProperty("depends_on").GetProperty("db-roles").GetProperty("condition").GetString());
        Assert.True(services.TryGetProperty("postgres", out var postgres));
        Assert.Contains(Volumes(postgres), v => v.Source.EndsWith("ops/postgres") && v.ReadOnly);
        // Receipts: the same unix socket path on both sides, in a volume both mount; no UDP listener.
        var socket = app.GetProperty("Delivery__ReceiptSocket").GetString()!;
        Assert.Equal($"unix:{socket}", services.GetProperty("nginx").GetProperty("environment").GetProperty("PORTAL_RECEIPTS").GetString());
        Assert.False(app.TryGetProperty("Delivery__ReceiptListen", out _));
        Assert.Contains(Volumes(services.GetProperty("nginx")), v => v.Source == "receipts");
        Assert.Contains(Volumes(services.GetProperty("app")), v => v.Source == "receipts");
        Assert.StartsWith("/run/secrets/", app.GetProperty("Audit__SigningKeyPath").GetString());
        Assert.False(string.IsNullOrEmpty(app.GetProperty("Audit__AnchorFile").GetString()));
    }

    [Fact]
    public async Task Every_file_and_folder_the_compose_file_names_exists()
    {
        var services = (await ComposeConfigAsync()).GetProperty("services");
        var named = new List<string>();
        foreach (var service in services.EnumerateObject())
        {
            if (service.Value.TryGetProperty("build", out var build))
            {
                var context = build.GetProperty("context").GetString()!;
                named.Add(context);
                named.Add(Path.Combine(context, build.GetProperty("dockerfile").GetString()!));
            }
            named.AddRange(Volumes(service.Value).Where(v => v.Source.StartsWith('/')).Select(v => v.Source));
        }

        Assert.Contains(named, p => p.EndsWith("ops/nginx/templates"));
        Assert.Contains(named, p => p.EndsWith("Portal.App.Dockerfile"));
        Assert.All(named, p => Assert.True(File.Exists(p) || Directory.Exists(p), $"{p} does not exist"));
    }

    [Fact]
    public async Task Every_secret_the_compose_file_requires_is_named_in_env_example()
    {
        var required = Regex.Matches(await File.ReadAllTextAsync(Path.Combine(Repository, "docker-compose.yml")), @"\$\{(\w+):\?")
            .Select(m => m.Groups[1].Value).Distinct().ToList();
        var example = await File.ReadAllTextAsync(Path.Combine(Repository, ".env.example"));

        Assert.NotEmpty(required);
        Assert.All(required, name => Assert.Matches($"(?m)^{name}=", example));
    }

    [NginxFact]
    public async Task The_compose_nginx_config_passes_nginx_t()
    {
        var services = (await ComposeConfigAsync()).GetProperty("services");
        var serviceNames = services.EnumerateObject().Select(s => s.Name).ToList();
        // What the nginx image's envsubst fills in: the PORTAL_* variables of the nginx service. nginx -t resolves
        // host names, and compose's service names exist only inside its network: they stand for 127.0.0.1 here.
        var variables = services.GetProperty("nginx").GetProperty("environment").EnumerateObject()
            .Where(v => v.Name.StartsWith("PORTAL_"))
            .ToDictionary(v => v.Name, v => serviceNames.Aggregate(v.Value.GetString()!,
                (value, service) => Regex.Replace(value, $@"^{Regex.Escape(service)}(?=:)", "127.0.0.1")));

        var (exitCode, output) = await NginxServer.CheckTemplateAsync(variables);

        Assert.True(exitCode == 0, output);
        Assert.Contains("syntax is ok", output);
    }

    [Fact]
    public async Task The_Dockerfile_publishes_with_the_command_the_test_script_runs()
    {
        var dockerfile = await File.ReadAllTextAsync(Path.Combine(Repository, "Portal.App.Dockerfile"));
        var testScript = await File.ReadAllTextAsync(Path.Combine(Repository, "test.sh"));
        var publish = Regex.Match(dockerfile, @"(?m)^RUN (dotnet publish [^\r\n]*?) -o \S+\s*$");

        Assert.True(publish.Success, "the Dockerfile has no `RUN dotnet publish ... -o DIR` line");
        // The same command, output folder aside: so what CI builds and runs is what the image contains.
        Assert.Contains(publish.Groups[1].Value + " -o", testScript);
    }

    /// <summary>SQL Server's client brings MSAL's native broker (38 MB), which the portal never uses: it stays out of the image.</summary>
    [PublishedAppFact]
    public void The_publish_output_leaves_out_the_unused_MSAL_broker_library()
    {
        var published = TestEnvironment.PublishedAppDir!;
        Assert.True(File.Exists(Path.Combine(published, "Microsoft.Data.SqlClient.dll")), "SQL Server's client is published");
        Assert.Empty(Directory.EnumerateFiles(published, "libmsalruntime*", SearchOption.AllDirectories));
    }

    /// <summary>The published app (test.sh publishes it as the Dockerfile does) starts and serves its pages and script.</summary>
    [PublishedAppFact]
    public async Task The_published_app_starts_and_serves_the_Blazor_script()
    {
        var folder = TestEnvironment.NewTempFolder("published");
        var published = TestEnvironment.PublishedAppDir!;
        // Started as the image starts it: in the publish folder (the Dockerfile's WORKDIR), which is the content root.
        using var app = Process.Start(new ProcessStartInfo("dotnet", [Path.Combine(published, "Portal.App.dll")])
        {
            WorkingDirectory = published, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            Environment =
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Development", ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
                ["Database__ConnectionString"] = $"Data Source={Path.Combine(folder, "portal.db")}",
                ["Storage__Root"] = Path.Combine(folder, "storage"),
            },
        })!;
        var output = new System.Text.StringBuilder();
        // Port 0, and the address from the app's own "Now listening on" line: a port picked beforehand could be
        // taken by another test's server meanwhile.
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        app.OutputDataReceived += (_, e) =>
        {
            lock (output) output.AppendLine(e.Data);
            if (e.Data is { } line && System.Text.RegularExpressions.Regex.Match(line, @"Now listening on: (http://\S+)") is { Success: true } m)
                listening.TrySetResult(new Uri(m.Groups[1].Value));
        };
        app.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        app.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"the published app exited: {output}"));
        app.EnableRaisingEvents = true;
        app.BeginOutputReadLine();
        app.BeginErrorReadLine();
        try
        {
            var address = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
            using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
            HttpResponseMessage? live = null;
            for (var i = 0; i < 120 && live is null; i++)
            {
                try { live = await http.GetAsync("/health/live"); }
                catch (HttpRequestException) { await Task.Delay(250); }
                if (app.HasExited) Assert.Fail($"the published app exited: {output}");
            }
            Assert.NotNull(live);
            Assert.True(live!.IsSuccessStatusCode);
            var script = await http.GetAsync("/_framework/blazor.web.js");
            Assert.Equal(System.Net.HttpStatusCode.OK, script.StatusCode);
            Assert.True((await script.Content.ReadAsByteArrayAsync()).Length > 100_000, "blazor.web.js is missing from the publish output");
            Assert.Contains("Sign in", await http.GetStringAsync("/signin"));
        }
        finally
        {
            app.Kill(entireProcessTree: true);
            await app.WaitForExitAsync();
        }
    }

    private sealed record Volume(string Source, bool ReadOnly);

    private static IEnumerable<Volume> Volumes(JsonElement service) =>
        service.TryGetProperty("volumes", out var volumes)
            ? volumes.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String
                ? new Volume(v.GetString()!.Split(':')[0], v.GetString()!.EndsWith(":ro"))
                : new Volume(v.GetProperty("source").GetString()!, v.TryGetProperty("read_only", out var ro) && ro.GetBoolean()))
            : [];

    /// <summary>
    /// `docker-compose config` (it validates and resolves the file) with a value for each variable .env.example
    /// names, read as JSON.
    /// </summary>
    private static async Task<JsonElement> ComposeConfigAsync()
    {
        var compose = FindOnPath("docker-compose")
            ?? throw new InvalidOperationException("docker-compose is not installed: run ./test.sh, which installs it.");
        var start = new ProcessStartInfo(compose, ["-f", Path.Combine(Repository, "docker-compose.yml"), "config"])
        {
            WorkingDirectory = Repository, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (Match m in Regex.Matches(await File.ReadAllTextAsync(Path.Combine(Repository, ".env.example")), @"(?m)^#?\s*(\w+)="))
            start.Environment[m.Groups[1].Value] = "Example-value-1";
        var yaml = await RunAsync(start);

        // docker-compose prints YAML; python3-yaml comes with it.
        var toJson = new ProcessStartInfo("python3", ["-c", "import sys, yaml, json; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        return JsonDocument.Parse(await RunAsync(toJson, yaml)).RootElement.Clone();
    }

    private static async Task<string> RunAsync(ProcessStartInfo start, string? input = null)
    {
        using var process = Process.Start(start)!;
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
        }
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{start.FileName} failed: {await error}");
        return await output;
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    private static string FindRepository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Portal.sln"))) return dir.FullName;
        throw new InvalidOperationException("Portal.sln not found above the test assembly.");
    }
}
