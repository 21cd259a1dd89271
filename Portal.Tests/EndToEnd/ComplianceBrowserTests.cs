using System.Text.RegularExpressions;
using CsvHelper;
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
    public async Task A_compliance_officer_filters_by_user_opens_a_report_and_exports_the_rows_as_csv()
    {
        using var staff = await ClientAsync("staff");
        using var admin = await ClientAsync("admin");
        await staff.GetByteArrayAsync($"/d/{scenario.SharedDocumentId}");
        await staff.GetByteArrayAsync($"/d/{scenario.SharedDocumentId}");
        await staff.GetAsync($"/d/{scenario.RestrictedDocumentId}");
        await admin.GetByteArrayAsync($"/d/{scenario.RestrictedDocumentId}");
        var samsDownloads = (await app.AuditEventsAsync())
            .Where(e => e.ActorUserId == scenario.StaffUserId && e.Action == AuditAction.DocumentDownloaded).Select(e => e.Id).ToList();
        Assert.Equal(3, samsDownloads.Count);

        var page = await chromium!.NewPageAsync();
        await page.GotoAsync("/signin");
        await page.GetByTestId("signin-compliance").ClickAsync();
        await ChromiumApp.WaitInteractiveAsync(page);
        await page.GetByText("Audit log", new() { Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("audit-grid")).ToBeVisibleAsync(new() { Timeout = 20000 });

        // Filter by user: pick Sam in the dropdown and apply.
        await page.GetByTestId("filter-user").ClickAsync();
        await page.Locator(".rz-dropdown-item", new() { HasText = "Sam Staff" }).ClickAsync();
        // The label is rendered by the server: once it names Sam, the page holds the choice that Apply sends.
        await Assertions.Expect(page.GetByTestId("filter-user")).ToContainTextAsync("Sam Staff");
        await page.GetByTestId("apply-filter").ClickAsync();
        var actors = page.GetByTestId("audit-actor");
        await Assertions.Expect(actors.First).ToHaveTextAsync("Sam Staff", new() { Timeout = 20000 });
        Assert.All(await actors.AllTextContentsAsync(), a => Assert.Equal("Sam Staff", a));
        Assert.Contains("Sign in", await page.GetByTestId("audit-action").AllTextContentsAsync());

        // And by action, picked by its words: only Sam's sign-in is left.
        await page.GetByTestId("filter-action").ClickAsync();
        await page.Locator(".rz-multiselect-item", new() { HasText = "Sign in" }).First.ClickAsync();
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(page.GetByTestId("filter-action")).ToContainTextAsync("Sign in");
        await page.GetByTestId("apply-filter").ClickAsync();
        await Assertions.Expect(page.GetByTestId("audit-action")).ToHaveTextAsync(["Sign in"], new() { Timeout = 20000 });

        // The report: what did this user access (downloads, views, folders), newest first.
        await page.GetByTestId("report-user-accessed").ClickAsync();
        await Assertions.Expect(page.GetByTestId("report-title")).ToContainTextAsync("What Sam Staff", new() { Timeout = 20000 });
        await Assertions.Expect(page.GetByTestId("audit-action")).ToHaveTextAsync(["Document downloaded", "Document downloaded", "Document downloaded"], new() { Timeout = 20000 });
        await Assertions.Expect(page.GetByTestId("audit-target")).ToHaveTextAsync(
            [$"/Restricted/{Scenario.RestrictedDocumentName}", $"/Shared/{Scenario.SharedDocumentName}", $"/Shared/{Scenario.SharedDocumentName}"], new() { Timeout = 20000 });

        // An event's detail, with its delivery receipt.
        await page.GetByTestId("audit-grid").Locator("tr", new() { Has = page.GetByText($"/Shared/{Scenario.SharedDocumentName}") }).First.ClickAsync();
        await Assertions.Expect(page.GetByTestId("audit-detail")).ToContainTextAsync($"Event #{samsDownloads[1]}", new() { Timeout = 20000 });
        await Assertions.Expect(page.GetByTestId("detail-receipt")).ToContainTextAsync("completed: 64 KiB", new() { Timeout = 20000 });
        await Screenshots.SaveAsync(page, "audit-report");

        // Export the report's rows as CSV: the progress readout ends with the count, the file holds exactly those rows.
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("export-csv").ClickAsync());
        await Assertions.Expect(page.GetByTestId("export-progress")).ToContainTextAsync("Exported 3 rows", new() { Timeout = 20000 });
        Assert.Matches(new Regex(@"^audit-\d{8}-\d{6}\.csv$"), download.SuggestedFilename);
        var text = await File.ReadAllTextAsync(await download.PathAsync());
        var lastLine = text.TrimEnd('\n').LastIndexOf('\n') + 1;
        Assert.StartsWith(AuditExportEndpoints.ManifestPrefix, text[lastLine..]);
        using var reader = CsvReader.Create(new StringReader(text[..lastLine]), null, false);
        var ids = new List<long>();
        var actorNames = new HashSet<string>();
        while (reader.Read())
        {
            ids.Add(long.Parse(reader.GetString("Id")));
            actorNames.Add(reader.GetString("ActorDisplayName"));
        }
        Assert.Equal(samsDownloads, ids);
        Assert.Equal(["Sam Staff"], actorNames);

        // The charts of the same filter: events per day by action, denied over time, top documents and users.
        await page.GetByText("Charts", new() { Exact = true }).ClickAsync();
        foreach (var chart in new[] { "chart-per-day", "chart-denied", "chart-top-documents", "chart-top-users" })
            await Assertions.Expect(page.GetByTestId(chart).Locator("svg").First).ToBeVisibleAsync(new() { Timeout = 15000 });
        await Assertions.Expect(page.GetByTestId("chart-top-documents")).ToContainTextAsync(Scenario.SharedDocumentName, new() { Timeout = 20000 });
        await Assertions.Expect(page.GetByTestId("chart-per-day")).ToContainTextAsync("Document downloaded");
        await Screenshots.SaveAsync(page, "audit-charts");

        // Looking and exporting were recorded, with the filter of the export.
        var events = await app.AuditEventsAsync();
        Assert.Single(events, e => e.Action == AuditAction.AuditLogViewed && e.ActorDisplayName == "Cora Compliance");
        var exported = Assert.Single(events, e => e.Action == AuditAction.AuditExported);
        Assert.Contains($"user={scenario.StaffUserId}", exported.Reason);
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
}
