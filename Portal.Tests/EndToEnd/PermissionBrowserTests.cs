using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Portal.Data.Audit;
using Portal.Data.Permissions;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.EndToEnd;

/// <summary>
/// What an admin does about access, in Chromium on the demo data: open a folder's access page from the folder,
/// grant a group through the editor (the panel updates), and disable a person on the users page.
/// </summary>
public sealed class PermissionBrowserTests : IAsyncLifetime
{
    private ChromiumApp? chromium;
    private PortalHost app => chromium!.App;

    public async Task InitializeAsync() => chromium = await ChromiumApp.StartAsync();

    public async Task DisposeAsync()
    {
        if (chromium is not null) await chromium.DisposeAsync();
    }

    private Task<IPage> SignInAsync(string demoUserKey, string displayName) => chromium!.SignInAsync(demoUserKey, displayName);

    private static Task WaitInteractiveAsync(IPage page) => ChromiumApp.WaitInteractiveAsync(page);

    [ChromiumFact]
    public async Task An_admin_grants_a_group_on_the_access_page_and_disables_a_person()
    {
        var page = await SignInAsync("admin", "Ada Admin");
        await page.GetByTestId("folder-tree").GetByText("Finance", new() { Exact = true }).ClickAsync();
        await page.GetByTestId("access-link").ClickAsync();
        await Assertions.Expect(page.GetByTestId("access-title")).ToHaveTextAsync("Who has access to /Finance");
        await WaitInteractiveAsync(page);
        await Assertions.Expect(page.GetByTestId("access-principal")).ToContainTextAsync(["staff"]);

        await page.GetByTestId("new-principal").FillAsync("compliance");
        await page.GetByTestId("new-principal").PressAsync("Tab");
        await page.GetByTestId("grant").ClickAsync();
        // A write and an audit commit behind it: on a busy machine (CI runs the test classes side by side) more than 5 s.
        await Assertions.Expect(page.GetByTestId("editor-message")).ToContainTextAsync("Granted Browse, Download to the group compliance", new() { Timeout = 15000 });
        // The panel beside the editor shows the new entry and why it applies.
        await Assertions.Expect(page.GetByTestId("access-row").Filter(new() { HasText = "compliance" }).GetByTestId("access-why")).ToHaveTextAsync("Entry on this folder");
        await Screenshots.SaveAsync(page, "access");

        var finance = await app.WithDbAsync(db => db.Folders.Where(f => f.Name == "Finance").Select(f => f.Id).SingleAsync());
        Assert.Equal(Rights.Browse | Rights.Download, await app.WithDbAsync(db =>
            db.PermissionEntries.Where(p => p.FolderId == finance && p.Group!.Name == "compliance").Select(p => p.Rights).SingleAsync()));

        // The compliance officer now sees Finance; then the admin disables them and their open page loses it.
        var cora = await SignInAsync("compliance", "Cora Compliance");
        await Assertions.Expect(cora.GetByTestId("folder-tree").GetByText("Finance", new() { Exact = true })).ToBeVisibleAsync();

        // She reads the grant in the audit log: its detail shows what changed, nothing before and the rights after.
        await cora.GotoAsync("/audit");
        await WaitInteractiveAsync(cora);
        await cora.GetByTestId("audit-grid").Locator("tr", new() { HasText = "Permission granted" }).First.ClickAsync();
        var rights = cora.GetByTestId("detail-changes").Locator("tr.changed", new() { HasText = "rights" });
        await Assertions.Expect(rights.Locator("td")).ToHaveTextAsync(["—", "Browse, Download"]);

        await page.GotoAsync("/admin/users");
        await WaitInteractiveAsync(page);
        var row = page.GetByTestId("user-row").Filter(new() { HasText = "Cora Compliance" });
        await row.GetByTestId("user-disable").ClickAsync();
        await Assertions.Expect(row.GetByTestId("user-status")).ToHaveTextAsync("Disabled");
        await Assertions.Expect(page.GetByTestId("users-message")).ToContainTextAsync("Cora Compliance is disabled; their open session was ended.");
        // Headings start where their column's text starts ("Sessions" and "Status" ran together without padding).
        var paddings = await page.EvaluateAsync<string[]>(
            "() => [...document.querySelectorAll('[data-testid=users] thead th, [data-testid=users] tbody tr:first-child td')].map(c => getComputedStyle(c).paddingLeft)");
        Assert.Single(paddings.Distinct());
        Assert.NotEqual("0px", paddings[0]);
        // And the last column (Enable/Disable) is inside the window, not scrolled off its right edge.
        var button = await page.GetByTestId("user-row").Filter(new() { HasText = "Sam Staff" }).GetByTestId("user-disable").BoundingBoxAsync();
        Assert.True(button!.X + button.Width <= page.ViewportSize!.Width, $"the button ends at {button.X + button.Width} px");
        await Screenshots.SaveAsync(page, "users");

        await cora.ReloadAsync();
        await Assertions.Expect(cora).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin"));
        // Both changes were made on pages (over the circuit) and say where from, as a request would.
        var events = await app.AuditEventsAsync();
        foreach (var action in new[] { AuditAction.PermissionGranted, AuditAction.UserDisabled })
        {
            var e = Assert.Single(events, e => e.Action == action);
            Assert.Equal(("Ada Admin", "127.0.0.1"), (e.ActorDisplayName, e.ClientIp));
            Assert.Contains("Chrome", e.UserAgent);
        }
    }
}
