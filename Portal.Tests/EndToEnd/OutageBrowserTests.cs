using Microsoft.Playwright;
using Npgsql;
using Portal.App.Hosting;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.EndToEnd;

/// <summary>
/// What a person sees in Chromium while the database is away (restarting, a network cut) and once it is back. The app
/// reaches the real PostgreSQL through a loopback relay the test cuts and restores. Before, a click in an open page
/// ended the page's circuit without a word (every later click did nothing until a reload), and a page loaded during
/// the outage showed the 503 problem document as raw JSON.
/// </summary>
public sealed class OutageBrowserTests : IAsyncLifetime
{
    private readonly TcpRelay relay = new();
    private ChromiumApp? chromium;

    public async Task InitializeAsync()
    {
        var database = new PostgresTestDatabase();
        var server = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        relay.Start(server.Host!, server.Port);
        var throughRelay = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Host = "127.0.0.1", Port = relay.Port, Timeout = 3 };
        chromium = await ChromiumApp.StartAsync(seedDemo: true,
            settings: new Dictionary<string, string?> { ["Database:ConnectionString"] = throughRelay.ConnectionString }, database: database);
    }

    public async Task DisposeAsync()
    {
        var blocked = chromium?.PolicyViolations ?? [];
        if (chromium is not null) await chromium.DisposeAsync();
        relay.Dispose();
        Assert.Empty(blocked);
    }

    [ChromiumFact]
    public async Task While_the_database_is_down_pages_say_so_and_try_again_carries_on_once_it_is_back()
    {
        var page = await chromium!.SignInAsync("staff", "Sam Staff");
        var tree = page.GetByTestId("folder-tree");
        await tree.GetByText("Company", new() { Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("folder-title")).ToHaveTextAsync("Company");

        relay.Cut();

        // A click in the open page: it says why nothing opened, and the rest of the page still works.
        await tree.GetByText("Policies", new() { Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("page-error")).ToContainTextAsync(DatabaseUnavailableHandler.Detail, new() { Timeout = 20000 });
        await Assertions.Expect(page.GetByTestId("blazor-error-ui")).ToBeHiddenAsync();

        relay.Restore();

        // Try again opens what was asked for, in the same page (the circuit lived on).
        await page.GetByTestId("page-error-retry").ClickAsync();
        await Assertions.Expect(page.GetByTestId("folder-title")).ToHaveTextAsync("Policies", new() { Timeout = 20000 });
        await Assertions.Expect(page.GetByTestId("page-error")).ToHaveCountAsync(0);
        var policies = page.Url;

        relay.Cut();

        // A page loaded from the address bar: 503 in words, not a JSON document.
        var response = await page.GotoAsync(policies);
        Assert.Equal(503, response!.Status);
        Assert.StartsWith("text/html", await response.HeaderValueAsync("content-type"));
        Assert.Equal("5", await response.HeaderValueAsync("retry-after"));
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("The portal is unavailable right now");
        await Assertions.Expect(page.GetByTestId("plain-page-message")).ToHaveTextAsync(DatabaseUnavailableHandler.Detail);

        relay.Restore();

        // "Try again" loads the same address.
        await page.GetByTestId("plain-page-link").ClickAsync();
        await Assertions.Expect(page.GetByTestId("folder-title")).ToHaveTextAsync("Policies", new() { Timeout = 20000 });
        Assert.Equal(policies, page.Url);
    }
}
