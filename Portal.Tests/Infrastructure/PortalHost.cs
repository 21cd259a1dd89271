using Microsoft.AspNetCore.Builder;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Portal.App.Documents;
using Portal.App.Hosting;
using Portal.Data;
using Portal.Data.Audit;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// The real app (Program) on a test database and a storage folder of its own. In-memory by default;
/// <see cref="StartOnKestrel"/> puts it on a real loopback port for nginx and Chromium.
/// </summary>
public sealed class PortalHost : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly bool _ownsStorage;

    public PortalHost(TestDatabase database, DeliveryMode delivery = DeliveryMode.Direct, bool seedDemo = false,
        IDictionary<string, string?>? settings = null)
    {
        Database = database;
        // Several instances may share one storage folder, as they share one database.
        string? shared = null;
        _ownsStorage = settings?.TryGetValue("Storage:Root", out shared) != true || shared is null;
        StorageRoot = shared ?? TestEnvironment.NewTempFolder("storage");
        _settings = new Dictionary<string, string?>
        {
            ["Database:Provider"] = database.Provider.ToString(),
            ["Database:ConnectionString"] = database.ConnectionString,
            ["Storage:Root"] = StorageRoot,
            // Each host's signed audit heads in a file of its own (not the shared App_Data of the content root).
            ["Audit:AnchorFile"] = Path.Combine(TestEnvironment.NewTempFolder("anchor"), "audit-heads.jsonl"),
            ["Delivery:Mode"] = delivery.ToString(),
            ["Demo:Seed"] = seedDemo ? "true" : "false",
            ["Oidc:Authority"] = "",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) _settings[key] = value;
    }

    public TestDatabase Database { get; }

    /// <summary>When set (before the app starts), the app's clock: a test moves time to see sessions expire.</summary>
    public TimeProvider? Clock { get; init; }

    /// <summary>When set (before the app starts), every response carries X-Test-Instance: this, to tell instances apart.</summary>
    public string? InstanceTag { get; init; }
    public string StorageRoot { get; }

    /// <summary>What the app logged at the configured level (Warning unless a test sets Logging:LogLevel), as it reads.</summary>
    public CapturedLogs Logs { get; } = new();

    /// <summary>Set once <see cref="StartOnKestrel"/> ran: the app's real address ("http://127.0.0.1:port").</summary>
    public Uri? KestrelAddress { get; private set; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
        // Every query the app runs in a test is also translated under SQL Server, which cannot run here.
        builder.ConfigureLogging(logging => logging.AddProvider(new CapturedLogs.Provider(Logs)));
        builder.ConfigureServices(services =>
        {
            services.AddSingleton<Microsoft.EntityFrameworkCore.Diagnostics.IInterceptor>(SqlServerTranslationCheck.Instance);
            if (InstanceTag is { } tag) services.AddSingleton<IStartupFilter>(new TagResponses(tag));
            if (Clock is { } clock) services.AddSingleton(clock);
        });
    }

    /// <summary>Serves the app on a free loopback port (for nginx and the browser) instead of in memory.</summary>
    public Uri StartOnKestrel(int port = 0)
    {
        UseKestrel(options => options.Listen(IPAddress.Loopback, port));
        StartServer();
        var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        KestrelAddress = new Uri(address);
        return KestrelAddress;
    }

    public HttpClient CreateBrowserLikeClient() =>
        CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    public async Task<T> WithDbAsync<T>(Func<PortalDbContext, Task<T>> query)
    {
        await using var db = await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        return await query(db);
    }

    public Task<List<AuditEvent>> AuditEventsAsync() => WithDbAsync(db => db.AuditEvents.AsNoTracking().OrderBy(e => e.Id).ToListAsync());

    public DocumentStorage Storage => Services.GetRequiredService<DocumentStorage>();

    /// <summary>Waits (up to 10 s) for the delivery receipt of an audit event: receipts are stored in the background.</summary>
    public async Task<Portal.Data.Downloads.DeliveryReceipt> ReceiptAsync(long auditEventId, Func<string>? context = null)
    {
        for (var i = 0; i < 200; i++)
        {
            var receipt = await WithDbAsync(db => db.DeliveryReceipts.AsNoTracking().FirstOrDefaultAsync(r => r.AuditEventId == auditEventId));
            if (receipt is not null) return receipt;
            await Task.Delay(50);
        }
        throw new TimeoutException($"No delivery receipt for audit event {auditEventId}. {context?.Invoke()}");
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_ownsStorage)
            try { Directory.Delete(StorageRoot, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Signs in through the app's own development sign-in form, as a browser would (antiforgery and all).</summary>
internal sealed class TagResponses(string tag) : IStartupFilter
{
    public Action<Microsoft.AspNetCore.Builder.IApplicationBuilder> Configure(Action<Microsoft.AspNetCore.Builder.IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            context.Response.Headers["X-Test-Instance"] = tag;
            return nextMiddleware(context);
        });
        next(app);
    };
}

public static partial class SignIn
{
    public static async Task AsDemoUserAsync(HttpClient client, string demoUserKey)
    {
        var token = TokenOf(await client.GetStringAsync("/signin"));
        var response = await client.PostAsync("/auth/dev-signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["user"] = demoUserKey,
            ["returnUrl"] = "/",
            ["__RequestVerificationToken"] = token,
        }));
        Assert.True(response.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.OK,
            $"sign-in answered {(int)response.StatusCode}");
    }

    /// <summary>
    /// Attaches the antiforgery token the page hands this person's session (as the upload control and the forms send
    /// it), for calling the change endpoints directly.
    /// </summary>
    public static async Task WithFormTokenAsync(HttpClient client) =>
        client.DefaultRequestHeaders.Add("RequestVerificationToken", TokenOf(await client.GetStringAsync("/")));

    /// <summary>Signs a demo person in and attaches their antiforgery token.</summary>
    public static async Task AsDemoUserForFormsAsync(HttpClient client, string demoUserKey)
    {
        await AsDemoUserAsync(client, demoUserKey);
        await WithFormTokenAsync(client);
    }

    /// <summary>The antiforgery token a page hands its forms (and the upload control), as a browser would read it.</summary>
    public static string TokenOf(string html)
    {
        var token = AntiforgeryToken().Match(html);
        Assert.True(token.Success, "the page carries an antiforgery token");
        return WebUtility.HtmlDecode(token.Groups[1].Value);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}

/// <summary>The app's log lines, kept so a test can check what operators would read (and what they must not).</summary>
public sealed class CapturedLogs
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => _lines.ToArray();

    public override string ToString() => string.Join("\n", _lines);

    internal sealed class Provider(CapturedLogs logs) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(logs, categoryName);
        public void Dispose() { }
    }

    private sealed class Logger(CapturedLogs logs, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            // Keeps memory bounded in long tests; the newest lines are what a test looks at.
            if (logs._lines.Count > 10_000) logs._lines.TryDequeue(out _);
            logs._lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception)}");
        }
    }
}
