using System.Text.RegularExpressions;
using CsvHelper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Portal.App.Audit;
using Portal.App.Hosting;
using Portal.Data.Audit;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.EndToEnd;

/// <summary>What a compliance officer does in Chromium: filter by a person, open a report, look at an event, export CSV.</summary>
public sealed class ComplianceBrowserTests : IAsyncLifetime
{
    private ChromiumApp? chromium;
    private Scenario scenario = null!;
    private PortalHost app => chromium!.App;

    public async Task InitializeAsync()
    {
        chromium = await ChromiumApp.StartAsync(seedDemo: false);
        if (chromium is not null) scenario = await Scenario.CreateAsync(chromium.App.Services);
    }

    public async Task DisposeAsync()
    {
        if (chromium is null) return;
        var blocked = chromium.PolicyViolations;
        await chromium.DisposeAsync();
        // Whatever the test did, the app's Content-Security-Policy blocked nothing of the app's own.
        Assert.Empty(blocked);
    }

    private async Task<HttpClient> ClientAsync(string who)
    {
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new System.Net.CookieContainer() }) { BaseAddress = chromium!.Address };
        await SignIn.AsDemoUserAsync(client, who);
        return client;
    }

    [ChromiumFact]
    public async Task A_compliance_officer_filters_by_user_opens_a_report_and_an_event_and_exports_the_rows_as_csv()
    {
        using var staff = await ClientAsync("staff");
        using var admin = await ClientAsync("admin");
        await SignIn.WithFormTokenAsync(admin);
        // A document whose name has accents: the export must keep them (UTF-8, readable by Excel).
        var upload = new MultipartFormDataContent();
        var part = new ByteArrayContent("Bonjour"u8.ToArray());
        part.Headers.TryAddWithoutValidation("Content-Disposition", $"form-data; name=\"files\"; filename=\"upload\"; filename*=UTF-8''{Uri.EscapeDataString(AccentedName)}");
        upload.Add(part);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await admin.PostAsync($"/folders/{scenario.SharedFolderId}/documents", upload)).StatusCode);
        var accentedId = (await app.AuditEventsAsync()).Single(e => e.Action == AuditAction.DocumentUploaded && e.TargetName == AccentedName).DocumentId;
        await staff.GetByteArrayAsync($"/d/{accentedId}");
        await staff.GetByteArrayAsync($"/d/{scenario.SharedDocumentId}");
        await staff.GetByteArrayAsync($"/d/{scenario.SharedDocumentId}");
        await staff.GetAsync($"/d/{scenario.RestrictedDocumentId}");
        await admin.GetByteArrayAsync($"/d/{scenario.RestrictedDocumentId}");
        var samsDownloads = (await app.AuditEventsAsync())
            .Where(e => e.ActorUserId == scenario.StaffUserId && e.Action == AuditAction.DocumentDownloaded).Select(e => e.Id).ToList();
        Assert.Equal(4, samsDownloads.Count);

        var page = await chromium!.NewPageAsync();
        await page.GotoAsync("/signin");
        await page.GetByTestId("signin-compliance").ClickAsync();
        await ChromiumApp.WaitInteractiveAsync(page);
        await page.GetByText("Audit log", new() { Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("audit-grid")).ToBeVisibleAsync(new() { Timeout = 20000 });
        await ChromiumApp.WaitInteractiveAsync(page);

        // Filter by user: type part of Sam's name in the picker (it searches on the server), pick him, apply.
        var userInput = page.Locator("[data-testid=filter-user] input, input[data-testid=filter-user]");
        await userInput.ClickAsync();
        await userInput.PressSequentiallyAsync("Sam");
        await page.Locator(".mud-popover-open .mud-list-item", new() { HasText = "Sam Staff" }).ClickAsync(new() { Timeout = 20000 });
        await Assertions.Expect(userInput).ToHaveValueAsync(new Regex("^Sam Staff"));
        await page.GetByTestId("apply-filter").ClickAsync();
        var actors = page.GetByTestId("audit-actor");
        await Assertions.Expect(actors.First).ToHaveTextAsync("Sam Staff", new() { Timeout = 20000 });
        Assert.All(await actors.AllTextContentsAsync(), a => Assert.Equal("Sam Staff", a));
        Assert.Contains("Sign in", await page.GetByTestId("audit-action").AllTextContentsAsync());

        // And by action, picked by its words: only Sam's sign-in is left.
        await page.Locator("[data-testid=filter-action]").First.ClickAsync();
        await page.Locator(".mud-popover-open .mud-list-item").GetByText("Sign in", new() { Exact = true }).ClickAsync();
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(page.Locator("[data-testid=filter-action] input, input[data-testid=filter-action]").First).ToHaveValueAsync("Sign in");
        await page.GetByTestId("apply-filter").ClickAsync();
        await Assertions.Expect(page.GetByTestId("audit-action")).ToHaveTextAsync(["Sign in"], new() { Timeout = 20000 });

        // The report: what did this user access (downloads, views, folders), newest first.
        await page.GetByTestId("report-user-accessed").ClickAsync();
        await Assertions.Expect(page.GetByTestId("report-title")).ToContainTextAsync("What Sam Staff", new() { Timeout = 20000 });
        await Assertions.Expect(page.GetByTestId("audit-action")).ToHaveTextAsync(
            ["Document downloaded", "Document downloaded", "Document downloaded", "Document downloaded"], new() { Timeout = 20000 });
        await Assertions.Expect(page.GetByTestId("audit-target")).ToHaveTextAsync(
            [$"/Restricted/{Scenario.RestrictedDocumentName}", $"/Shared/{Scenario.SharedDocumentName}", $"/Shared/{Scenario.SharedDocumentName}", $"/Shared/{AccentedName}"],
            new() { Timeout = 20000 });

        // An event's detail, with its delivery receipt, in a drawer that is in view (it used to open 4,900 px below the rows).
        await page.GetByTestId("audit-grid").Locator("tr", new() { Has = page.GetByText($"/Shared/{Scenario.SharedDocumentName}") }).First.ClickAsync();
        var detail = page.GetByTestId("audit-detail");
        await Assertions.Expect(detail).ToContainTextAsync($"Event #{samsDownloads[2]}", new() { Timeout = 20000 });
        await Assertions.Expect(page.GetByTestId("detail-actor")).ToHaveTextAsync("Sam Staff");
        await Assertions.Expect(page.GetByTestId("detail-target")).ToHaveTextAsync($"/Shared/{Scenario.SharedDocumentName}");
        await Assertions.Expect(page.GetByTestId("detail-receipt")).ToContainTextAsync("completed: 64 KiB", new() { Timeout = 20000 });
        await AssertInViewportAsync(page, page.GetByTestId("audit-drawer"));
        await Assertions.Expect(detail.Locator("h2")).ToBeInViewportAsync();
        await SaveAsync(page, "audit-report");
        await page.GetByTestId("detail-close").ClickAsync();

        // Export the report's rows as CSV: the progress readout ends with the count, the file holds exactly those rows,
        // decoded as UTF-8 with the accents intact.
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("export-csv").ClickAsync());
        await Assertions.Expect(page.GetByTestId("export-progress")).ToContainTextAsync("Exported 4 rows", new() { Timeout = 20000 });
        Assert.Matches(new Regex(@"^audit-\d{8}-\d{6}\.csv$"), download.SuggestedFilename);
        var bytes = await File.ReadAllBytesAsync(await download.PathAsync());
        var text = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes).TrimStart('\uFEFF');
        // The manifest: the trailing line today; a file of its own once the "sign" change is merged. Either way, rows
        // are read up to it.
        var manifestAt = text.IndexOf("\n" + AuditExportEndpoints.ManifestPrefix, StringComparison.Ordinal);
        using var reader = CsvReader.Create(new StringReader(manifestAt < 0 ? text : text[..(manifestAt + 1)]), null, false);
        var ids = new List<long>();
        var actorNames = new HashSet<string>();
        var targets = new HashSet<string>();
        while (reader.Read())
        {
            ids.Add(long.Parse(reader.GetString("Id")));
            actorNames.Add(reader.GetString("ActorDisplayName"));
            targets.Add(reader.GetString("TargetName"));
        }
        Assert.Equal(samsDownloads, ids);
        Assert.Equal(["Sam Staff"], actorNames);
        Assert.Contains(AccentedName, targets);

        // The charts of the same filter: events per day by action, denied over time, top documents (by name) and users.
        await page.GetByText("Charts", new() { Exact = true }).ClickAsync();
        foreach (var chart in new[] { "chart-per-day", "chart-denied", "chart-top-documents", "chart-top-users" })
            await Assertions.Expect(page.GetByTestId(chart).Locator("svg:visible").First).ToBeVisibleAsync(new() { Timeout = 15000 });
        await Assertions.Expect(page.GetByTestId("chart-top-documents")).ToContainTextAsync(Scenario.SharedDocumentName, new() { Timeout = 20000 });
        await Assertions.Expect(page.GetByTestId("chart-top-documents")).Not.ToContainTextAsync(scenario.SharedDocumentId.ToString());
        await Assertions.Expect(page.GetByTestId("chart-per-day")).ToContainTextAsync("Document downloaded");
        await AssertLegendClearOfAxisAsync(page, "chart-per-day");
        await SaveAsync(page, "audit-charts");

        // Looking and exporting were recorded, with the filter of the export.
        var events = await app.AuditEventsAsync();
        Assert.Single(events, e => e.Action == AuditAction.AuditLogViewed && e.ActorDisplayName == "Cora Compliance");
        var exported = Assert.Single(events, e => e.Action == AuditAction.AuditExported);
        Assert.Contains($"user={scenario.StaffUserId}", exported.Reason);

        // Excel reads a CSV as UTF-8 only with a byte-order mark. (Passes once the "sign" helper's export change is in.)
        Assert.True(bytes.AsSpan().StartsWith((byte[])[0xEF, 0xBB, 0xBF]), "The CSV export starts with a UTF-8 byte-order mark");
    }

    [ChromiumFact]
    public async Task On_a_phone_the_audit_log_shows_the_key_columns_and_the_event_drawer_takes_the_whole_width()
    {
        using var staff = await ClientAsync("staff");
        await staff.GetByteArrayAsync($"/d/{scenario.SharedDocumentId}");
        await staff.GetAsync($"/d/{scenario.RestrictedDocumentId}");
        var page = await chromium!.NewPageAsync();
        await page.SetViewportSizeAsync(390, 844);
        await page.GotoAsync("/signin");
        await page.GetByTestId("signin-compliance").ClickAsync();
        await ChromiumApp.WaitInteractiveAsync(page);
        await page.GotoAsync("/audit");
        await ChromiumApp.WaitInteractiveAsync(page);
        var grid = page.GetByTestId("audit-grid");
        await Assertions.Expect(page.GetByTestId("audit-action").First).ToBeVisibleAsync(new() { Timeout = 20000 });

        // The key columns show; the id, outcome, address and delivery columns wait in the drawer.
        foreach (var heading in new[] { "When (UTC)", "Who", "What", "Document or folder" })
            await Assertions.Expect(grid.Locator("thead th", new() { HasText = heading }).First).ToBeVisibleAsync();
        foreach (var heading in new[] { "#", "Outcome", "From", "Delivery" })
            await Assertions.Expect(grid.Locator("thead th").GetByText(heading, new() { Exact = true })).ToBeHiddenAsync();
        var denied = grid.Locator("tr", new() { Has = page.GetByText($"/Restricted/{Scenario.RestrictedDocumentName}") }).First;
        await Assertions.Expect(denied).ToContainTextAsync("Denied");
        // Nothing is wider than the phone: no sideways scrolling to reach the target column.
        var box = await grid.BoundingBoxAsync();
        Assert.True(box!.X >= 0 && box.X + box.Width <= 390.5, $"the grid spans {box.X}..{box.X + box.Width} px of 390");
        await SaveAsync(page, "audit-phone", keepSize: true);

        await denied.ClickAsync();
        await Assertions.Expect(page.GetByTestId("detail-target")).ToHaveTextAsync($"/Restricted/{Scenario.RestrictedDocumentName}", new() { Timeout = 20000 });
        await Assertions.Expect(page.GetByTestId("detail-outcome")).ToContainTextAsync("Denied");
        var drawer = await AssertInViewportAsync(page, page.GetByTestId("audit-drawer"));
        Assert.True(drawer.X <= 0.5 && drawer.Width >= 389.5, $"the drawer spans {drawer.X}..{drawer.X + drawer.Width} px of 390");
        await SaveAsync(page, "audit-phone-drawer", keepSize: true);
    }
    [ChromiumFact]
    public async Task Verifying_the_chain_in_the_page_shows_the_result_and_names_a_broken_event()
    {
        using var staff = await ClientAsync("staff");
        for (var i = 0; i < 5; i++) await staff.GetByteArrayAsync($"/d/{scenario.SharedDocumentId}");
        var page = await chromium!.NewPageAsync();
        await page.GotoAsync("/signin");
        await page.GetByTestId("signin-compliance").ClickAsync();
        await page.GotoAsync("/audit");
        await ChromiumApp.WaitInteractiveAsync(page);

        await page.GetByTestId("verify-chain").ClickAsync();
        await Assertions.Expect(page.GetByTestId("verify-result")).ToContainTextAsync("the chain holds", new() { Timeout = 30000 });

        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection(app.Database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var tamper = connection.CreateCommand();
            tamper.CommandText = "DROP TRIGGER \"AuditEvents_NoUpdate\"; UPDATE \"AuditEvents\" SET \"TargetName\" = 'nothing to see.pdf' WHERE \"Id\" = 3;";
            await tamper.ExecuteNonQueryAsync();
        }
        await page.GetByTestId("verify-chain").ClickAsync();
        await Assertions.Expect(page.GetByTestId("verify-result")).ToContainTextAsync("BROKEN at event #3", new() { Timeout = 30000 });
        await Screenshots.SaveAsync(page, "audit-verify-broken");
        var verified = (await app.AuditEventsAsync()).Where(e => e.Action == AuditAction.AuditChainVerified).Select(e => e.Reason).ToList();
        Assert.Equal(2, verified.Count);
        Assert.Contains("BROKEN at event #3", verified[1]);
    }

    [ChromiumFact]
    public async Task Verifying_in_the_page_checks_against_the_signed_head_and_names_deleted_newest_events()
    {
        var page = await chromium!.NewPageAsync();
        await page.GotoAsync("/signin");
        await page.GetByTestId("signin-compliance").ClickAsync();
        await page.GotoAsync("/audit");
        await ChromiumApp.WaitInteractiveAsync(page);
        using var staff = await ClientAsync("staff");
        for (var i = 0; i < 5; i++) await staff.GetByteArrayAsync($"/d/{scenario.SharedDocumentId}");
        await app.Services.GetRequiredService<AuditHeadSigning>().SignNowAsync();

        // Whoever owns the database drops the trigger and deletes the newest events (three of the downloads): what is
        // left still links as a chain.
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection(app.Database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var tamper = connection.CreateCommand();
            tamper.CommandText = "DROP TRIGGER \"AuditEvents_NoDelete\"; DELETE FROM \"AuditEvents\" WHERE \"Action\" = 'DocumentDownloaded' AND " +
                                 "\"Id\" > (SELECT MAX(\"Id\") - 3 FROM \"AuditEvents\");";
            Assert.Equal(3, await tamper.ExecuteNonQueryAsync());
        }
        await page.GetByTestId("verify-chain").ClickAsync();
        await Assertions.Expect(page.GetByTestId("verify-result")).ToContainTextAsync("TRUNCATED", new() { Timeout = 30000 });
    }

    private const string AccentedName = "Café – résumé à jour.txt";

    /// <summary>The element's box lies inside the window (after any slide-in animation), and is returned.</summary>
    private static async Task<LocatorBoundingBoxResult> AssertInViewportAsync(IPage page, ILocator element)
    {
        var viewport = page.ViewportSize!;
        LocatorBoundingBoxResult? box = null;
        for (var i = 0; i < 50; i++)
        {
            box = await element.BoundingBoxAsync();
            if (box is not null && box.X >= -0.5 && box.Y >= -0.5 && box.X + box.Width <= viewport.Width + 0.5 && box.Width > 0) break;
            await Task.Delay(100);
        }
        Assert.NotNull(box);
        Assert.True(box.X >= -0.5 && box.Y >= -0.5 && box.X + box.Width <= viewport.Width + 0.5 && box.Y < viewport.Height,
            $"the box {box.X},{box.Y} {box.Width}x{box.Height} is outside the {viewport.Width}x{viewport.Height} window");
        return box;
    }

    /// <summary>The legend sits below the plot: no legend entry overlaps the chart's axis area.</summary>
    private static async Task AssertLegendClearOfAxisAsync(IPage page, string chart)
    {
        var overlaps = await page.GetByTestId(chart).EvaluateAsync<int>(
            """
            root => {
                const svg = root.querySelector('svg');
                if (!svg) return -1;
                const plot = svg.getBoundingClientRect();
                const legend = [...root.querySelectorAll('.mud-chart-legend-item')];
                if (legend.length === 0) return -2;
                return legend.filter(l => { const r = l.getBoundingClientRect(); return r.top < plot.bottom - 1 && r.bottom > plot.top + 1; }).length;
            }
            """);
        Assert.Equal(0, overlaps); // -1: no chart; -2: no legend
    }

    /// <summary>A screenshot into PORTAL_SCREENSHOTS (if set), at 1280 × 720 or at the page's own size.</summary>
    private static async Task SaveAsync(IPage page, string name, bool keepSize = false)
    {
        if (!keepSize) { await Screenshots.SaveAsync(page, name); return; }
        var folder = Environment.GetEnvironmentVariable("PORTAL_SCREENSHOTS");
        if (string.IsNullOrEmpty(folder)) return;
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, name + ".png") });
    }
}
