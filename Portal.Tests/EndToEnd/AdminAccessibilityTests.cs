using System.Text.Json;
using Microsoft.Playwright;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.EndToEnd;

/// <summary>
/// The admin pages (who has access, explain, users) under axe-core's WCAG 2.1 A/AA rules, at 1280 px and on a phone
/// (390 px), in the states an admin sees: the picker's list open, an answer, the confirmation dialog. On the phone the
/// page never scrolls sideways: the wide tables scroll inside their own box.
/// </summary>
public sealed class AdminAccessibilityTests : IAsyncLifetime
{
    private static readonly string[] Levels = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
    private ChromiumApp? chromium;
    private string axe = "";

    public async Task InitializeAsync()
    {
        chromium = await ChromiumApp.StartAsync();
        if (chromium is not null) axe = await File.ReadAllTextAsync(AxeScript());
    }

    public async Task DisposeAsync()
    {
        if (chromium is not null) await chromium.DisposeAsync();
    }

    [ChromiumTheory]
    [InlineData(1280, 800)]
    [InlineData(390, 844)]
    public async Task The_admin_pages_pass_the_WCAG_21_AA_rules_and_never_scroll_sideways(int width, int height)
    {
        var problems = new List<string>();
        var admin = await chromium!.SignInAsync("admin", "Ada Admin");
        await admin.SetViewportSizeAsync(width, height);
        var finance = await chromium.App.WithDbAsync(db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleAsync(
            db.Folders.Where(f => f.Name == "Finance").Select(f => f.Id)));
        var sam = await chromium.App.WithDbAsync(db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleAsync(
            db.Users.Where(u => u.DisplayName == "Sam Staff").Select(u => u.Id)));

        await admin.GotoAsync($"/folders/{finance}/access");
        await ChromiumApp.WaitInteractiveAsync(admin);
        await Assertions.Expect(admin.GetByTestId("permission-editor")).ToBeVisibleAsync();
        problems.AddRange(await CheckAsync(admin, $"who has access ({width} px)"));
        await admin.GetByTestId("new-principal").ClickAsync();
        await admin.GetByTestId("new-principal").PressSequentiallyAsync("s");
        await Assertions.Expect(admin.GetByTestId("principal-option").First).ToBeVisibleAsync();
        problems.AddRange(await CheckAsync(admin, $"the picker's list ({width} px)"));
        await ShotAsync(admin, $"admin-picker-{width}");
        await admin.Keyboard.PressAsync("Escape");
        await admin.Locator("tr.entry-row").First.GetByTestId("entry-revoke").ClickAsync();
        await Assertions.Expect(admin.GetByTestId("confirm-message")).ToBeVisibleAsync();
        problems.AddRange(await CheckAsync(admin, $"the remove dialog ({width} px)"));
        await ShotAsync(admin, $"admin-remove-{width}");
        await admin.GetByTestId("confirm-no").ClickAsync();
        await AssertNoSidewaysScrollAsync(admin, "who has access");

        await admin.GotoAsync($"/admin/explain?user={sam}&folder={finance}&right=Download");
        await ChromiumApp.WaitInteractiveAsync(admin);
        await Assertions.Expect(admin.GetByTestId("explain-answer")).ToBeVisibleAsync();
        problems.AddRange(await CheckAsync(admin, $"explain ({width} px)"));
        await ShotAsync(admin, $"admin-explain-{width}");
        await AssertNoSidewaysScrollAsync(admin, "explain");

        await admin.GotoAsync("/admin/users");
        await ChromiumApp.WaitInteractiveAsync(admin);
        await Assertions.Expect(admin.Locator("tr.user-row").First).ToBeVisibleAsync();
        problems.AddRange(await CheckAsync(admin, $"users ({width} px)"));
        await ShotAsync(admin, $"admin-users-{width}");
        await AssertNoSidewaysScrollAsync(admin, "users");

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>A screenshot at the window's current size (Screenshots.SaveAsync widens it to 1280 px), when PORTAL_SCREENSHOTS is set.</summary>
    private static async Task ShotAsync(IPage page, string name)
    {
        var folder = Environment.GetEnvironmentVariable("PORTAL_SCREENSHOTS");
        if (string.IsNullOrEmpty(folder)) return;
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, name + ".png"), FullPage = true });
    }

    private static async Task AssertNoSidewaysScrollAsync(IPage page, string what)
    {
        // Whatever element the layout scrolls, none but the tables' own boxes may be wider than the window.
        var wider = await page.EvaluateAsync<string[]>("""
            () => [document.documentElement, document.body, ...document.querySelectorAll('main, .mud-main-content')]
                .filter(e => e && e.scrollWidth > e.clientWidth + 1).map(e => `${e.tagName}.${e.className}: ${e.scrollWidth} > ${e.clientWidth}`)
            """);
        Assert.True(wider.Length == 0, $"{what} scrolls sideways: {string.Join("; ", wider)}");
    }

    /// <summary>axe's violations on the page as it is now, one line per rule with the first offending element.</summary>
    private async Task<IEnumerable<string>> CheckAsync(IPage page, string where)
    {
        if (!await page.EvaluateAsync<bool>("() => typeof axe !== 'undefined'")) await page.EvaluateAsync(axe);
        var violations = await page.EvaluateAsync<JsonElement>(
            """
            async levels => (await axe.run(document, { runOnly: { type: 'tag', values: levels } })).violations
                .map(v => ({ id: v.id, help: v.help, nodes: v.nodes.map(n => ({ html: n.html.substring(0, 200) })) }))
            """, Levels);
        return violations.EnumerateArray().Select(v =>
        {
            var nodes = v.GetProperty("nodes").EnumerateArray().ToList();
            return $"{where}: {v.GetProperty("id").GetString()} ({v.GetProperty("help").GetString()}), {nodes.Count}×, first: {nodes[0].GetProperty("html").GetString()}";
        }).ToList();
    }

    private static string AxeScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "Portal.Tests", "Accessibility", "node_modules", "axe-core", "axe.min.js");
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException("axe-core not found in Portal.Tests/Accessibility/node_modules: run the tests with ./test.sh.");
    }
}
