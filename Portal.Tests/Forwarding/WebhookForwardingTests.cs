using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Portal.Data.Audit;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Forwarding;

/// <summary>
/// The webhook sink against a local HTTPS receiver (Kestrel, a certificate from a throwaway CA the app is told to
/// trust), with the app running as its own process and killed with SIGKILL mid-stream.
/// </summary>
public sealed class WebhookForwardingTests
{
    private const string Secret = "a-test-secret-of-enough-length-42";

    [Fact]
    public async Task Signed_batches_arrive_after_500s_and_nothing_is_lost_across_a_kill_9()
    {
        var folder = TestEnvironment.NewTempFolder("webhook");
        var certificates = TestCertificates.Create(folder);
        await using var receiver = await WebhookReceiver.StartAsync(certificates.Server, Secret, failFirst: 3);

        var environment = new Dictionary<string, string>
        {
            ["Forwarding__Sinks__hook__Kind"] = "Webhook",
            ["Forwarding__Sinks__hook__Url"] = new Uri(receiver.Address, "/events").ToString(),
            ["Forwarding__Sinks__hook__Secret"] = Secret,
            ["Forwarding__Sinks__hook__CaCertificate"] = certificates.CaPem,
            ["Forwarding__BatchSize"] = "7",
            ["Forwarding__LeaseSeconds"] = "3",
            ["Forwarding__MaxBackoffSeconds"] = "1",
        };
        var database = Path.Combine(folder, "portal.db");

        await using (var first = await RunningApp.StartAsync(folder, environment))
        {
            for (var i = 0; i < 25; i++) await first.SignInAsync("staff");
            // Mid-stream: some batches in, others not yet (the receiver refused the first three, and answers slowly).
            for (var i = 0; i < 100 && receiver.Events.IsEmpty; i++) await Task.Delay(100);
            for (var i = 0; i < 25; i++) await first.SignInAsync("staff");
            first.KillHard();
        }
        var beforeRestart = receiver.Events.Count;
        await using (var second = await RunningApp.StartAsync(folder, environment))
        {
            for (var i = 0; i < 10; i++) await second.SignInAsync("staff");
            await ForwardingAssertions.AllArrivedInOrderAsync(() => ReadLogAsync(database), () => receiver.Events.ToList(), TimeSpan.FromSeconds(60));
        }

        Assert.Equal(3, receiver.Refused);
        Assert.Equal(0, receiver.BadSignatures);
        Assert.True(beforeRestart < (await ReadLogAsync(database)).Count, "the kill came before everything was forwarded");
        // The receiver's check can fail: a body signed with another key is refused.
        using var tampered = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true });
        var body = "{\"events\":[]}"u8.ToArray();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(receiver.Address, "/events")) { Content = new ByteArrayContent(body) };
        request.Headers.Add("X-Portal-Signature", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData("wrong-key-wrong-key"u8.ToArray(), body)));
        Assert.Equal(HttpStatusCode.Unauthorized, (await tampered.SendAsync(request)).StatusCode);
    }

    private static async Task<List<AuditEvent>> ReadLogAsync(string database)
    {
        await using var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT Id, Action, Hash, PreviousHash FROM AuditEvents ORDER BY Id";
        await using var reader = await command.ExecuteReaderAsync();
        var events = new List<AuditEvent>();
        while (await reader.ReadAsync())
            events.Add(new AuditEvent { Id = reader.GetInt64(0), Action = Enum.Parse<AuditAction>(reader.GetString(1)), Hash = reader.GetString(2), PreviousHash = reader.GetString(3) });
        return events;
    }

    /// <summary>An HTTPS endpoint that checks each batch's signature, refuses the first few with 500, and keeps the events.</summary>
    private sealed class WebhookReceiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _requests;
        public ConcurrentQueue<JsonElement> Events { get; } = new();
        public int Refused;
        public int BadSignatures;
        public Uri Address { get; private set; } = null!;

        private WebhookReceiver(WebApplication app) => _app = app;

        public static async Task<WebhookReceiver> StartAsync(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate, string secret, int failFirst)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate)));
            var app = builder.Build();
            var receiver = new WebhookReceiver(app);
            var key = Encoding.UTF8.GetBytes(secret);
            app.MapPost("/events", async (HttpContext http) =>
            {
                using var buffer = new MemoryStream();
                await http.Request.Body.CopyToAsync(buffer);
                var body = buffer.ToArray();
                var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(key, body));
                if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(http.Request.Headers["X-Portal-Signature"].ToString()), Encoding.ASCII.GetBytes(expected)))
                {
                    Interlocked.Increment(ref receiver.BadSignatures);
                    return Results.Unauthorized();
                }
                if (Interlocked.Increment(ref receiver._requests) <= failFirst)
                {
                    Interlocked.Increment(ref receiver.Refused);
                    return Results.StatusCode(500);
                }
                await Task.Delay(150); // a receiver that takes its time: the kill comes with batches still to send
                foreach (var e in JsonDocument.Parse(body).RootElement.GetProperty("events").EnumerateArray()) receiver.Events.Enqueue(e.Clone());
                return Results.Ok();
            });
            await app.StartAsync();
            receiver.Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            return receiver;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }

    /// <summary>Portal.App as its own process on a SQLite file, signed into with the development sign-in.</summary>
    private sealed class RunningApp : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output;
        private readonly HttpClient _http;

        private RunningApp(Process process, StringBuilder output, Uri address)
        {
            _process = process;
            _output = output;
            _http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = address };
        }

        public static async Task<RunningApp> StartAsync(string folder, IDictionary<string, string> settings)
        {
            var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "Portal.App.dll")])
            {
                WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
            start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
            start.Environment["ASPNETCORE_CONTENTROOT"] = folder;
            start.Environment["Database__Provider"] = "Sqlite";
            start.Environment["Database__ConnectionString"] = $"Data Source={Path.Combine(folder, "portal.db")}";
            start.Environment["Storage__Root"] = Path.Combine(folder, "storage");
            start.Environment["Demo__Seed"] = "false";
            foreach (var (key, value) in settings) start.Environment[key] = value;
            var process = Process.Start(start)!;
            var output = new StringBuilder();
            var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
            process.OutputDataReceived += (_, e) =>
            {
                lock (output) output.AppendLine(e.Data);
                if (e.Data is { } line && Regex.Match(line, @"Now listening on: (http://\S+)") is { Success: true } m) listening.TrySetResult(new Uri(m.Groups[1].Value));
            };
            process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
            process.EnableRaisingEvents = true;
            process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"the app exited: {output}"));
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return new RunningApp(process, output, await listening.Task.WaitAsync(TimeSpan.FromSeconds(90)));
        }

        public Task SignInAsync(string who) => SignIn.AsDemoUserAsync(_http, who);

        /// <summary>SIGKILL: no shutdown, no lease released, no buffer flushed.</summary>
        public void KillHard()
        {
            _process.Kill();
            _process.WaitForExit();
        }

        public async ValueTask DisposeAsync()
        {
            _http.Dispose();
            if (!_process.HasExited) { _process.Kill(); await _process.WaitForExitAsync(); }
            _process.Dispose();
        }
    }
}
