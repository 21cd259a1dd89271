using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Portal.Data.Audit;
using Portal.Data.Permissions;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.EndToEnd;

/// <summary>
/// What an admin does about access, in Chromium on the demo data: open a folder's access page from the folder, grant a
/// person and a group picked by typing their names, explain a person's access from their row (the answer's address
/// reloads to the same answer), and disable a person on the users page after confirming.
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
        await Assertions.Expect(page.GetByTestId("entry-principal").Filter(new() { HasText = "staff" }).First).ToBeVisibleAsync();

        // The group, picked from the list after typing part of its name.
        await PickAsync(page, "complian", "Group: compliance");
        await page.GetByTestId("grant").ClickAsync();
        // A write and an audit commit behind it: on a busy machine (CI runs the test classes side by side) more than 5 s.
        await Assertions.Expect(page.GetByTestId("editor-message")).ToContainTextAsync("Granted Browse, Download to the group compliance", new() { Timeout = 15000 });
        // The table shows the new entry, on this folder, with its rights ticked.
        var compliance = EntryRow(page, "compliance");
        await Assertions.Expect(compliance.GetByTestId("entry-source")).ToHaveTextAsync("This folder");
        await Assertions.Expect(compliance.GetByTestId("entry-Download")).ToBeCheckedAsync();
        await Assertions.Expect(compliance.GetByTestId("entry-Upload")).Not.ToBeCheckedAsync();
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
        var row = page.Locator("tr.user-row").Filter(new() { HasText = "Cora Compliance" });
        await row.GetByTestId("user-disable").ClickAsync();
        // Asked first, naming the person and their open session; nothing happens before the answer.
        await Assertions.Expect(page.GetByTestId("confirm-message")).ToContainTextAsync("Cora Compliance cannot sign in until enabled again, and their open session ends at once.");
        await Assertions.Expect(page.GetByRole(AriaRole.Dialog)).ToContainTextAsync("Disable Cora Compliance?");
        await Assertions.Expect(row.GetByTestId("user-status")).ToHaveTextAsync("Active");
        await page.GetByTestId("confirm-yes").ClickAsync();
        await Assertions.Expect(row.GetByTestId("user-status")).ToHaveTextAsync("Disabled");
        await Assertions.Expect(page.GetByTestId("users-message")).ToContainTextAsync("Cora Compliance is disabled; their open session was ended.");
        // Headings start where their column's text starts ("Sessions" and "Status" ran together without padding).
        var paddings = await page.EvaluateAsync<string[]>(
            "() => [...document.querySelectorAll('[data-testid=users] thead th, [data-testid=users] tbody tr:first-child td')].map(c => getComputedStyle(c).paddingLeft)");
        Assert.Single(paddings.Distinct());
        Assert.NotEqual("0px", paddings[0]);
        // And the last column (Enable/Disable) is inside the window, not scrolled off its right edge.
        var button = await page.Locator("tr.user-row").Filter(new() { HasText = "Sam Staff" }).GetByTestId("user-disable").BoundingBoxAsync();
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

    [ChromiumFact]
    public async Task An_admin_grants_a_person_picked_by_name_then_explains_from_the_row_and_the_link_reloads_to_the_same_answer()
    {
        var page = await SignInAsync("admin", "Ada Admin");
        await page.GetByTestId("folder-tree").GetByText("Finance", new() { Exact = true }).ClickAsync();
        await page.GetByTestId("access-link").ClickAsync();
        await Assertions.Expect(page.GetByTestId("access-title")).ToHaveTextAsync("Who has access to /Finance", new() { Timeout = 15000 });
        await WaitInteractiveAsync(page);

        // Typing a name that matches nobody says what was searched.
        await page.GetByTestId("new-principal").ClickAsync();
        await page.GetByTestId("new-principal").PressSequentiallyAsync("sam x");
        await Assertions.Expect(page.GetByTestId("no-principal-match")).ToHaveTextAsync("No person or group matches “sam x”.", new() { Timeout = 15000 });
        await Screenshots.SaveAsync(page, "access-no-match");
        await page.GetByTestId("new-principal").FillAsync("");

        // Sam, by name (his e-mail was the only way before; "Sam Staff" was answered "unknown, ask him to sign in").
        await PickAsync(page, "Sam St", "Sam Staff (sam@example.org)");
        await page.GetByTestId("new-Upload").CheckAsync();
        await page.GetByTestId("grant").ClickAsync();
        await Assertions.Expect(page.GetByTestId("editor-message")).ToContainTextAsync("Granted Browse, Download, Upload to Sam Staff", new() { Timeout = 15000 });
        var sam = EntryRow(page, "Sam Staff");
        await Assertions.Expect(sam.GetByTestId("entry-source")).ToHaveTextAsync("This folder");
        await Assertions.Expect(sam.GetByTestId("entry-Upload")).ToBeCheckedAsync();
        await Screenshots.SaveAsync(page, "access-granted");
        var samId = await app.WithDbAsync(db => db.Users.Where(u => u.DisplayName == "Sam Staff").Select(u => u.Id).SingleAsync());
        var finance = await app.WithDbAsync(db => db.Folders.Where(f => f.Name == "Finance").Select(f => f.Id).SingleAsync());
        Assert.Equal(Rights.Browse | Rights.Download | Rights.Upload, await app.WithDbAsync(db =>
            db.PermissionEntries.Where(p => p.FolderId == finance && p.UserId == samId).Select(p => p.Rights).SingleAsync()));

        // One click from his row: why may Sam browse here?
        await sam.GetByTestId("entry-explain").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/admin/explain\\?user={samId}&folder={finance}$"));
        await WaitInteractiveAsync(page);
        await Assertions.Expect(page.GetByTestId("explain-answer")).ToContainTextAsync("Allowed: Sam Staff may browse in /Finance.");
        await Assertions.Expect(page.GetByTestId("explain-reasons")).ToContainTextAsync("Granted by Sam Staff's own entry on /Finance (Browse, Download, Upload), this folder.");

        // Another right: the choice goes into the address, and the address alone brings the answer back.
        await page.GetByTestId("explain-right").ClickAsync();
        await page.Locator(".mud-popover-open").GetByText("Manage", new() { Exact = true }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("right=Manage"));
        await Assertions.Expect(page.GetByTestId("explain-answer")).ToContainTextAsync("Denied: Sam Staff may not manage in /Finance.");
        await Screenshots.SaveAsync(page, "explain");
        var link = page.Url;
        await page.ReloadAsync();
        await Assertions.Expect(page.GetByTestId("explain-answer")).ToContainTextAsync("Denied: Sam Staff may not manage in /Finance.");
        var other = await chromium!.SignInAsync("admin", "Ada Admin"); // another admin's browser, from the shared link
        await other.GotoAsync(link);
        await Assertions.Expect(other.GetByTestId("explain-answer")).ToContainTextAsync("Denied: Sam Staff may not manage in /Finance.");
        await Assertions.Expect(other.GetByTestId("explain-reasons")).ToContainTextAsync("No entry for Sam Staff or their groups grants Manage on this folder or any folder above it.");
    }

    /// <summary>Types into the editor's picker and picks the option the server offers.</summary>
    private static async Task PickAsync(IPage page, string typed, string option)
    {
        var picker = page.GetByTestId("new-principal");
        await picker.ClickAsync();
        await picker.PressSequentiallyAsync(typed);
        await page.GetByTestId("principal-option").Filter(new() { HasText = option }).ClickAsync();
        await Assertions.Expect(picker).ToHaveValueAsync(option);
    }

    /// <summary>The editor's row for a person or a group.</summary>
    private static ILocator EntryRow(IPage page, string principal) =>
        page.Locator("tr.entry-row", new() { Has = page.GetByTestId("entry-principal").Filter(new() { HasText = principal }) });
}
