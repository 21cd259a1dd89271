using System.Text.Json;
using Microsoft.Playwright;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.EndToEnd;

/// <summary>
/// WCAG 2.1 A and AA on the audit page as the compliance officer uses it, checked by axe-core inside Chromium: the grid
/// with an event open in its drawer, and the charts, at 1280 px and on a phone (390 px).
/// </summary>
public sealed class AuditAccessibilityTests : IAsyncLifetime
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
    public async Task The_audit_page_with_an_event_open_and_with_its_charts_passes_the_WCAG_21_AA_rules_axe_checks(int width, int height)
    {
        var problems = new List<string>();
        var page = await chromium!.SignInAsync("compliance", "Cora Compliance");
        await page.SetViewportSizeAsync(width, height);
        await page.GotoAsync("/audit");
        await ChromiumApp.WaitInteractiveAsync(page);
        await Assertions.Expect(page.GetByTestId("audit-action").First).ToBeVisibleAsync(new() { Timeout = 20000 });

        await page.GetByTestId("audit-grid").Locator("button.audit-open").First.ClickAsync();
        await Assertions.Expect(page.GetByTestId("audit-detail")).ToBeInViewportAsync(new() { Timeout = 20000 });
        await Task.Delay(400); // the drawer slides in: axe checks colours of what is on screen
        problems.AddRange(await CheckAsync(page, $"audit log with an event open, {width} px"));
        await page.GetByTestId("detail-close").ClickAsync();

        await page.GetByText("Charts", new() { Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("chart-per-day").Locator("svg:visible").First).ToBeVisibleAsync(new() { Timeout = 20000 });
        problems.AddRange(await CheckAsync(page, $"audit charts, {width} px"));

        Assert.True(problems.Count == 0, string.Join("\n", problems));
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
