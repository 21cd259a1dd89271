using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Portal.Data.Audit;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.EndToEnd;

/// <summary>
/// In Chromium: clicking around an open page (which talks over its circuit, not in requests) is activity that keeps
/// the session alive; the first click after 30 idle minutes lands on the sign-in page, which says why, and does not
/// act: the circuit ends the page's session before the click reaches the component.
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

        // 31 minutes with nothing: the next click signs the page out, and the sign-in page says why. The circuit checks
        // the session on its own too (an open page loses access within a minute): when that check comes first, the page
        // is on the sign-in page before the click lands, which is the same outcome.
        clock.Advance(TimeSpan.FromMinutes(31));
        try { await tree.GetByText("Company", new() { Exact = true }).ClickAsync(new() { Timeout = 10000 }); }
        catch (Exception e) when (e is PlaywrightException or TimeoutException) { } // the page left before the click
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin\\?ReturnUrl=.*&ended=idle$"));
        await Assertions.Expect(page.GetByTestId("session-ended"))
            .ToContainTextAsync("You were signed out after 30 minutes without activity. Sign in again to continue.");
        await Screenshots.SaveAsync(page, "session-ended");
    }

    [ChromiumFact]
    public async Task A_change_clicked_after_30_idle_minutes_is_not_made()
    {
        var page = await chromium!.SignInAsync("admin", "Ada Admin");
        await AdminSteps.OpenFolderAsync(page, "Policies");
        await AdminSteps.RowActionAsync(page, "Expense policy.md", "delete-document");
        await page.GetByTestId("confirm-delete").ClickAsync();
        await Assertions.Expect(page.GetByTestId("action-message")).ToContainTextAsync("moved to the bin");
        await page.GotoAsync("/bin");
        await ChromiumApp.WaitInteractiveAsync(page);
        await Assertions.Expect(page.GetByTestId("bin-name")).ToHaveTextAsync(["Expense policy.md"]);

        // The bin was rendered for Ada; her click 31 minutes later is, as a rule, the circuit's first input since: one
        // message, clicked in the page so that no mouse movement comes first. On a busy machine a late message from the
        // page (or the 30 s revalidation) can end the page first; then there is no button left to click, and the
        // outcome checked below must be the same.
        clock.Advance(TimeSpan.FromMinutes(31));
        try
        {
            await page.EvaluateAsync("() => document.querySelector('[data-testid=restore]')?.click()");
        }
        catch (PlaywrightException) { } // the page was navigating to the sign-in page already
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin\\?ReturnUrl=.*&ended=idle$"));

        Assert.True(await chromium.App.WithDbAsync(db => db.Documents.AnyAsync(d => d.DisplayName == "Expense policy.md" && d.IsDeleted)));
        Assert.DoesNotContain(AuditAction.DocumentRestored, (await chromium.App.AuditEventsAsync()).Select(e => e.Action));
    }
}
