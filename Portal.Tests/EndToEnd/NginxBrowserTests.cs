using Microsoft.Playwright;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.EndToEnd;

/// <summary>Chromium through nginx in XAccel mode: hostile and non-ASCII names are saved exactly as named.</summary>
public sealed class NginxBrowserTests : IAsyncLifetime
{
    private NginxStack stack = null!;
    private IPlaywright playwright = null!;
    private IBrowser browser = null!;

    public async Task InitializeAsync()
    {
        if ((TestEnvironment.NginxPath is null || TestEnvironment.ChromiumPath is null) && !TestEnvironment.IsCi) return;
        stack = await NginxStack.StartAsync();
        (playwright, browser) = await Browser.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        if (browser is not null) await browser.DisposeAsync();
        playwright?.Dispose();
        if (stack is not null) await stack.DisposeAsync();
    }

    public static TheoryData<string> Names => new()
    {
        "résumé été.txt",
        "報告書 2026 第3四半期.pdf",
        "emoji 📄 report.txt",
        "semi;colon, comma=equals.txt",
        "100% done & dusted #1 +plus.txt",
        "it's an 'apostrophe'.txt",
        "Ünïcödé Ελληνικά Кириллица.txt",
        new string('x', 120) + " long name ending é.txt",
        "quote \"double\" and 'single'.txt",
        "tab\tand\r\nnewline.txt",
    };

    /// <summary>
    /// What a person gets: the name exactly, but for two rules. The portal turns control characters into '_' (they
    /// could split a header). Chromium turns '"' into '_' when it saves, though the header carries it exactly
    /// (filename*, checked in NginxDeliveryTests): a browser rule the portal cannot change.
    /// </summary>
    private static string ExpectedSavedName(string name) => string.Concat(name.Select(c => char.IsControl(c) || c == '"' ? '_' : c));

    [ChromiumTheory]
    [MemberData(nameof(Names))]
    public async Task Chromium_saves_the_file_under_exactly_the_documents_name(string name)
    {
        var doc = await TestDocuments.AddAsync(stack.App.Services, stack.Scenario.SharedFolderId, name, 2048, "text/plain", seed: name.Length);
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = stack.Nginx.Address.ToString(), AcceptDownloads = true });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/signin");
        await page.GetByTestId("signin-staff").ClickAsync();
        await page.WaitForURLAsync(stack.Nginx.Address.ToString());

        // Navigating to the link starts a download (an attachment), exactly as clicking it in the list does.
        var download = await page.RunAndWaitForDownloadAsync(async () =>
        {
            try { await page.GotoAsync($"/d/{doc.Id}"); } catch (PlaywrightException) { /* "Download is starting" */ }
        });

        Assert.Equal(ExpectedSavedName(name), download.SuggestedFilename);
        Assert.Equal(doc.Sha256, await TestDocuments.Sha256Async(File.OpenRead((await download.PathAsync())!)));
        await context.DisposeAsync();
    }
}

/// <summary>A compliance officer sees, next to each download, whether the person actually got the file.</summary>
public sealed class AuditLogBrowserTests : IAsyncLifetime
{
    private NginxStack stack = null!;
    private IPlaywright playwright = null!;
    private IBrowser browser = null!;

    public async Task InitializeAsync()
    {
        if ((TestEnvironment.NginxPath is null || TestEnvironment.ChromiumPath is null) && !TestEnvironment.IsCi) return;
        stack = await NginxStack.StartAsync(sharedSize: 200 * 1024);
        (playwright, browser) = await Browser.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        if (browser is not null) await browser.DisposeAsync();
        playwright?.Dispose();
        if (stack is not null) await stack.DisposeAsync();
    }

    [ChromiumTheory]
    [InlineData("compliance")]
    public async Task The_audit_log_shows_each_download_with_its_delivery_receipt(string who)
    {
        using var staff = await stack.SignedInClientAsync("staff");
        await staff.GetByteArrayAsync($"/d/{stack.Scenario.SharedDocumentId}");
        await staff.GetAsync($"/d/{stack.Scenario.RestrictedDocumentId}");
        var allowed = (await stack.App.AuditEventsAsync()).Single(e => e.Action == Portal.Data.Audit.AuditAction.DocumentDownloaded && e.Outcome == Portal.Data.Audit.AuditOutcome.Allowed);
        await stack.ReceiptAsync(allowed.Id);

        var page = await browser.NewPageAsync(new BrowserNewPageOptions { BaseURL = stack.Nginx.Address.ToString() });
        await page.GotoAsync("/signin");
        await page.GetByTestId($"signin-{who}").ClickAsync();
        await Assertions.Expect(page.Locator("[data-interactive=true]")).ToHaveCountAsync(1, new() { Timeout = 15000 });
        await page.GetByText("Audit log", new() { Exact = true }).ClickAsync();

        var row = page.Locator("tr", new() { Has = page.GetByText($"/Shared/{Scenario.SharedDocumentName}") }).First;
        await Assertions.Expect(row.GetByTestId("audit-delivery")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^completed: 200 KiB in "));
        var denied = page.Locator("tr", new() { Has = page.GetByText($"/Restricted/{Scenario.RestrictedDocumentName}") }).First;
        await Assertions.Expect(denied.GetByTestId("audit-delivery")).ToHaveTextAsync("not served");
        await Assertions.Expect(denied).ToContainTextAsync("No Download right on the folder");
        await Screenshots.SaveAsync(page, "audit-log");

        // Looking at the audit log is itself recorded.
        await Task.Delay(200);
        Assert.Contains(await stack.App.AuditEventsAsync(), e => e.Action == Portal.Data.Audit.AuditAction.AuditLogViewed && e.ActorDisplayName == "Cora Compliance");
    }

    [ChromiumTheory]
    [InlineData("staff")]
    [InlineData("admin")]
    public async Task Only_compliance_officers_may_open_the_audit_log(string who)
    {
        using var client = await stack.SignedInClientAsync(who);
        var response = await client.GetAsync("/audit");
        Assert.Equal(System.Net.HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/denied", response.Headers.Location?.PathAndQuery);
        // Back to nginx's own address, port included (nginx passes the browser's Host on, not $host, which drops it).
        Assert.Equal(stack.Nginx.Address.Authority, response.Headers.Location?.Authority);
        // The attempt is on the record as a refusal, and nothing of the log was shown.
        var attempt = Assert.Single(await stack.App.AuditEventsAsync(), e => e.Action == Portal.Data.Audit.AuditAction.AuditLogViewed);
        Assert.Equal((Portal.Data.Audit.AuditOutcome.Denied, who == "admin" ? "Ada Admin" : "Sam Staff", "Not a compliance officer"),
            (attempt.Outcome, attempt.ActorDisplayName, attempt.Reason));

        // Signed in, so not the sign-in page again: who they are, whom the page is for, whom to ask.
        var html = await client.GetStringAsync(response.Headers.Location);
        var page = System.Net.WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Replace(
            System.Text.RegularExpressions.Regex.Replace(html, "<[^>]+>", ""), @"\s+", " ")); // the text a person reads
        Assert.Contains("No access", page);
        Assert.Contains($"You are signed in as {(who == "admin" ? "Ada Admin" : "Sam Staff")}", page);
        Assert.Contains("this page is only for compliance officers.", page);
        Assert.DoesNotContain("signin-compliance", html);
    }
}
