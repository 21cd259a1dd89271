using System.Text.Json;
using Microsoft.Playwright;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.EndToEnd;

/// <summary>
/// WCAG 2.1 A and AA, as far as a machine can check them: axe-core (Deque's engine, from npm) runs inside Chromium on
/// every page each role uses, in the states people see (alerts, badges, an event's detail, the charts). Public bodies
/// must meet AA (EN 301 549, Section 508); before this, the header's title, the links, every filled alert and the
/// audit log's badges were below AA contrast, and the audit log's date filters had no label a screen reader reads.
/// </summary>
public sealed class AccessibilityTests : IAsyncLifetime
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

    /// <summary>One page in the state a person sees it: who, what it is called in a failure, and how to get there.</summary>
    private sealed record PageRow(string Who, string Name, Func<IPage, Task> Open, bool OnPhone = false);

    private static async Task GoAsync(IPage page, string path)
    {
        await page.GotoAsync(path);
        await ChromiumApp.WaitInteractiveAsync(page);
    }

    private static async Task FolderAsync(IPage page, string name)
    {
        await GoAsync(page, "/");
        await AdminSteps.OpenFolderAsync(page, name);
        await Assertions.Expect(page.GetByTestId("document-list")).ToBeVisibleAsync();
    }

    /// <summary>
    /// Every page each role uses, as rows: each runs in the light and the dark theme, and the staff pages at a phone's
    /// 390 px too.
    /// </summary>
    private static readonly PageRow[] Rows =
    [
        new("staff", "home (recent documents)", p => GoAsync(p, "/"), OnPhone: true),
        new("staff", "a folder with subfolders", p => FolderAsync(p, "Company"), OnPhone: true),
        new("staff", "a folder's row menu", async p =>
        {
            await FolderAsync(p, "Company");
            await p.GetByTestId("row-menu").Locator("button").First.ClickAsync();
            await Assertions.Expect(p.GetByTestId("document-versions")).ToBeVisibleAsync();
        }, OnPhone: true),
        new("staff", "a document's versions", async p =>
        {
            await FolderAsync(p, "Company");
            await AdminSteps.RowActionAsync(p, "Welcome.txt", "document-versions");
            await Assertions.Expect(p.GetByTestId("version").First).ToBeVisibleAsync();
        }, OnPhone: true),
        new("staff", "a browse-only folder", p => FolderAsync(p, "Reports 2026"), OnPhone: true),
        new("staff", "search", async p =>
        {
            await GoAsync(p, "/search?q=t");
            await Assertions.Expect(p.GetByTestId("document-name").First).ToBeVisibleAsync();
        }, OnPhone: true),
        new("staff", "no access", p => GoAsync(p, "/bin"), OnPhone: true),
        new("admin", "a folder, as an admin, after a change", async p =>
        {
            await FolderAsync(p, "Company");
            await p.GetByTestId("new-folder").ClickAsync();
            await p.GetByTestId("action-name").FillAsync($"Minutes {Guid.NewGuid():N}"[..16]);
            await p.GetByTestId("action-name").PressAsync("Enter");
            await Assertions.Expect(p.GetByTestId("action-message")).ToContainTextAsync("created"); // a success alert
        }),
        new("admin", "the new folder dialog", async p =>
        {
            await FolderAsync(p, "Company");
            await p.GetByTestId("new-folder").ClickAsync();
            await Assertions.Expect(p.GetByTestId("action-name")).ToBeVisibleAsync();
        }),
        new("admin", "the delete dialog", async p =>
        {
            await FolderAsync(p, "Handbook");
            await p.GetByTestId("delete-folder").ClickAsync();
            await Assertions.Expect(p.GetByTestId("delete-question")).ToBeVisibleAsync();
        }),
        new("admin", "bin", p => GoAsync(p, "/bin")),
        new("admin", "who has access", async p =>
        {
            await FolderAsync(p, "Company");
            await p.GetByTestId("access-link").ClickAsync();
            await Assertions.Expect(p.Locator("h1")).ToContainTextAsync("Who has access");
        }),
        new("admin", "users", p => GoAsync(p, "/admin/users")),
        new("admin", "explain access", p => GoAsync(p, "/admin/explain")),
        new("compliance", "audit log, chain verified", async p =>
        {
            await AuditAsync(p);
            await p.GetByTestId("verify-chain").ClickAsync();
            await Assertions.Expect(p.GetByTestId("verify-result")).ToBeVisibleAsync(new() { Timeout = 20000 });
        }, OnPhone: true),
        new("compliance", "an event in the drawer", async p =>
        {
            await AuditAsync(p);
            await p.GetByTestId("audit-grid").Locator("tbody tr").First.ClickAsync();
            await Assertions.Expect(p.GetByTestId("audit-detail")).ToBeVisibleAsync(new() { Timeout = 20000 });
        }, OnPhone: true),
        new("compliance", "audit charts", async p =>
        {
            await AuditAsync(p);
            await p.GetByText("Charts", new() { Exact = true }).ClickAsync();
            // MudChart's first svg is a hidden definition: wait for a drawn one.
            await Assertions.Expect(p.GetByTestId("chart-per-day").Locator("svg:visible").First).ToBeVisibleAsync(new() { Timeout = 15000 });
        }),
        new("compliance", "alerts", p => GoAsync(p, "/compliance/alerts")),
        new("compliance", "forwarding", p => GoAsync(p, "/compliance/forwarding")),
    ];

    private static async Task AuditAsync(IPage page)
    {
        await GoAsync(page, "/audit");
        await Assertions.Expect(page.GetByTestId("audit-action").First).ToBeVisibleAsync(new() { Timeout = 20000 });
    }

    [ChromiumFact]
    public async Task Every_page_a_person_uses_passes_the_WCAG_21_AA_rules_axe_checks_in_light_and_dark_and_on_a_phone()
    {
        var problems = new List<string>();

        var visitor = await chromium!.NewPageAsync();
        await visitor.GotoAsync("/signin");
        problems.AddRange(await CheckAsync(visitor, "sign-in"));
        await visitor.SetViewportSizeAsync(390, 844);
        problems.AddRange(await CheckAsync(visitor, "sign-in, phone"));
        await visitor.GotoAsync("/denied");
        problems.AddRange(await CheckAsync(visitor, "no access, signed out"));

        var pages = new Dictionary<string, IPage>
        {
            ["staff"] = await chromium.SignInAsync("staff", "Sam Staff"),
            ["admin"] = await chromium.SignInAsync("admin", "Ada Admin"),
            ["compliance"] = await chromium.SignInAsync("compliance", "Cora Compliance"),
        };
        var staff = pages["staff"];
        await staff.GotoAsync($"/d/{Guid.NewGuid()}");
        await Assertions.Expect(staff.Locator("h1")).ToHaveTextAsync("Document not found");
        problems.AddRange(await CheckAsync(staff, "a refused link"));

        foreach (var scheme in new[] { ColorScheme.Light, ColorScheme.Dark })
        {
            foreach (var row in Rows)
            {
                var page = pages[row.Who];
                // The theme follows the system's preference (no choice stored in these fresh profiles).
                await page.EmulateMediaAsync(new() { ColorScheme = scheme });
                await page.SetViewportSizeAsync(1280, 800);
                await row.Open(page);
                await ExpectThemeAsync(page, scheme);
                problems.AddRange(await CheckAsync(page, $"{row.Name} ({row.Who}, {scheme})"));
                if (!row.OnPhone) continue;
                await page.SetViewportSizeAsync(390, 844);
                await row.Open(page);
                problems.AddRange(await CheckAsync(page, $"{row.Name} ({row.Who}, {scheme}, 390 px)"));
            }
        }
        await Screenshots.SaveAsync(pages["staff"], "staff-dark-phone");

        // Keyboard focus on the upload control shows (the file input itself is invisible over its button).
        var admin = pages["admin"];
        await admin.SetViewportSizeAsync(1280, 800);
        await FolderAsync(admin, "Company");
        await admin.GetByTestId("new-folder").FocusAsync();
        for (var i = 0; i < 15 && !await admin.GetByTestId("upload-input").EvaluateAsync<bool>("e => e === document.activeElement"); i++)
            await admin.Keyboard.PressAsync("Tab");
        Assert.NotEqual("none", await admin.Locator(".upload-choose").EvaluateAsync<string>("e => getComputedStyle(e).outlineStyle"));

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [ChromiumFact]
    public async Task The_theme_toggle_switches_to_dark_and_the_choice_is_kept_on_the_next_visit()
    {
        var page = await chromium!.SignInAsync("staff", "Sam Staff");
        await page.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Light });
        await ExpectThemeAsync(page, ColorScheme.Light);
        await page.GetByTestId("theme-toggle").ClickAsync();
        await ExpectThemeAsync(page, ColorScheme.Dark);
        await page.ReloadAsync();
        await ChromiumApp.WaitInteractiveAsync(page);
        await ExpectThemeAsync(page, ColorScheme.Dark); // the system still says light: the person's choice wins
    }

    /// <summary>The page's background is the theme's: #f5f5f5 in light, #121212 in dark.</summary>
    private static Task ExpectThemeAsync(IPage page, ColorScheme scheme) =>
        Assertions.Expect(page.Locator("body")).ToHaveCSSAsync("background-color", scheme == ColorScheme.Dark ? "rgb(18, 18, 18)" : "rgb(245, 245, 245)", new() { Timeout = 15000 });

    /// <summary>axe's violations on the page as it is now, one line per rule with the first offending element.</summary>
    private Task<List<string>> CheckAsync(IPage page, string where) => CheckAsync(page, axe, where);

    /// <summary>The same for any page and test (the cross-site download question is checked in BrowserTests).</summary>
    internal static async Task<List<string>> CheckAsync(IPage page, string axe, string where)
    {
        if (!await page.EvaluateAsync<bool>("() => typeof axe !== 'undefined'")) await page.EvaluateAsync(axe);
        var violations = await page.EvaluateAsync<JsonElement>(
            """
            async levels => (await axe.run(document, { runOnly: { type: 'tag', values: levels } })).violations
                .map(v => ({ id: v.id, help: v.help, nodes: v.nodes.map(n => ({ html: n.html.substring(0, 160) })) }))
            """, Levels);
        var found = new List<string>();
        foreach (var v in violations.EnumerateArray())
        {
            var id = v.GetProperty("id").GetString()!;
            var nodes = v.GetProperty("nodes").EnumerateArray().ToList();
            if (nodes.Count > 0)
                found.Add($"{where}: {id} ({v.GetProperty("help").GetString()}), {nodes.Count}×, first: {nodes[0].GetProperty("html").GetString()}");
        }
        return found;
    }

    internal static string AxeScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "Portal.Tests", "Accessibility", "node_modules", "axe-core", "axe.min.js");
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException("axe-core not found in Portal.Tests/Accessibility/node_modules: run the tests with ./test.sh.");
    }
}
