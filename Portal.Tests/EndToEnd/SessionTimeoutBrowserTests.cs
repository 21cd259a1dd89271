using Microsoft.Playwright;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.EndToEnd;

/// <summary>
/// In Chromium: clicking around an open page (which talks over its circuit, not in requests) is activity that keeps
/// the session alive; the first click after 30 idle minutes lands on the sign-in page, which says why.
/// </summary>
public sealed class SessionTimeoutBrowserTests : IAsyncLifetime
{
    private readonly FakeClock clock = new(DateTimeOffset.UtcNow);
    private ChromiumApp? chromium;

    public async Task InitializeAsync() => chromium = await ChromiumApp.StartAsync(clock: clock);

    public async Task DisposeAsync()
    {
        if (chromium is not null) await chromium.DisposeAsync();
    }

    [ChromiumFact]
    public async Task Clicks_in_an_open_page_keep_the_session_and_the_first_click_after_30_idle_minutes_asks_to_sign_in()
    {
        var page = await chromium!.SignInAsync("staff", "Sam Staff");
        var welcome = await Auth.SessionTimeoutTests.WelcomeAsync(chromium.App);
        var tree = page.GetByTestId("folder-tree");

        // 20 minutes on, a click in the tree: no request reaches the app, only the circuit's message.
        clock.Advance(TimeSpan.FromMinutes(20));
        await tree.GetByText("Company", new() { Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("document-name")).ToHaveTextAsync(["Welcome.txt"]);

        // 40 minutes after the last request, 20 after the click: a download with the page's cookie still works.
        clock.Advance(TimeSpan.FromMinutes(20));
        var download = await page.APIRequest.GetAsync($"/d/{welcome}", new() { MaxRedirects = 0 });
        Assert.Equal(200, download.Status);

        // 31 minutes with nothing: the next click signs the page out, and the sign-in page says why.
        clock.Advance(TimeSpan.FromMinutes(31));
        await tree.GetByText("Company", new() { Exact = true }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin\\?ReturnUrl=.*&ended=idle$"));
        await Assertions.Expect(page.GetByTestId("session-ended"))
            .ToContainTextAsync("You were signed out after 30 minutes without activity. Sign in again to continue.");
        await Screenshots.SaveAsync(page, "session-ended");
    }
}
