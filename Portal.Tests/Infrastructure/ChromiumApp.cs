using Microsoft.Playwright;
using Portal.App.Hosting;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// What a browser test class needs: the app on a real port (SQLite, its own storage) and one Chromium. Null outside
/// CI when Chromium is missing (the tests then skip: see <see cref="ChromiumFactAttribute"/>).
/// </summary>
public sealed class ChromiumApp : IAsyncDisposable
{
    private readonly TestDatabase _database;
    private readonly IPlaywright _playwright;

    private ChromiumApp(TestDatabase database, PortalHost app, Uri address, IPlaywright playwright, IBrowser browser)
    {
        (_database, App, Address, _playwright, Browser) = (database, app, address, playwright, browser);
    }

    public PortalHost App { get; }
    public Uri Address { get; }
    public IBrowser Browser { get; }

    /// <param name="database">SQLite unless given; the app owns it from here on (disposed with it).</param>
    public static async Task<ChromiumApp?> StartAsync(bool seedDemo = true, IDictionary<string, string?>? settings = null, TimeProvider? clock = null,
        TestDatabase? database = null)
    {
        if (TestEnvironment.ChromiumPath is null && !TestEnvironment.IsCi) { if (database is not null) await database.DisposeAsync(); return null; }
        database ??= new SqliteTestDatabase();
        var app = new PortalHost(database, DeliveryMode.Direct, seedDemo, settings) { Clock = clock };
        var address = app.StartOnKestrel();
        var (playwright, browser) = await Infrastructure.Browser.LaunchAsync();
        return new ChromiumApp(database, app, address, playwright, browser);
    }

    /// <summary>A fresh browser profile (no cookies) on the app.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = Address.ToString(), AcceptDownloads = true });
        // Chromium reports what the app's Content-Security-Policy blocked on the console, in every tab of the context.
        context.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.Ordinal))
                lock (_policyViolations) _policyViolations.Add(message.Text);
        };
        return await context.NewPageAsync();
    }

    private readonly List<string> _policyViolations = [];

    /// <summary>What the Content-Security-Policy blocked so far, in any page this app's browser opened.</summary>
    public IReadOnlyList<string> PolicyViolations
    {
        get { lock (_policyViolations) return [.. _policyViolations]; }
    }

    /// <summary>Signs a demo person in through the development sign-in page, in a fresh profile.</summary>
    public async Task<IPage> SignInAsync(string demoUserKey, string displayName)
    {
        var page = await NewPageAsync();
        await page.GotoAsync("/signin");
        await page.GetByTestId($"signin-{demoUserKey}").ClickAsync();
        await Assertions.Expect(page.GetByTestId("signed-in-user")).ToHaveTextAsync(displayName);
        await WaitInteractiveAsync(page);
        return page;
    }

    /// <summary>Prerendered HTML shows first; clicks do nothing until the circuit has taken over.</summary>
    public static Task WaitInteractiveAsync(IPage page) =>
        Assertions.Expect(page.Locator("[data-interactive=true]")).ToHaveCountAsync(1, new() { Timeout = 15000 });

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
        await App.DisposeAsync();
        await _database.DisposeAsync();
    }
}
