using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using Portal.Data.Audit;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.EndToEnd;

/// <summary>
/// What a person does, in Chromium, on the embedded default with its demo data: sign in with the development
/// sign-in, open a folder by clicking (only works if the interactive circuit and blazor.web.js
/// work), download a document.
/// </summary>
public sealed class BrowserTests : IAsyncLifetime
{
    private ChromiumApp? chromium;
    private PortalHost app => chromium!.App;

    public async Task InitializeAsync() => chromium = await ChromiumApp.StartAsync(
        settings: new Dictionary<string, string?> { ["Uploads:MaxFileBytes"] = (1024 * 1024).ToString() });

    public async Task DisposeAsync()
    {
        if (chromium is null) return;
        var blocked = chromium.PolicyViolations;
        await chromium.DisposeAsync();
        // Whatever the test did, the app's Content-Security-Policy blocked nothing of the app's own.
        Assert.Empty(blocked);
    }

    private async Task<IPage> SignInAsync(string demoUserKey, string displayName)
    {
        var page = await chromium!.NewPageAsync();
        await page.GotoAsync("/");
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin"));
        await Screenshots.SaveAsync(page, "sign-in");
        // Before sign-in the menu offers nothing: every entry would lead back here.
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Documents" })).ToHaveCountAsync(0);
        await page.GetByTestId($"signin-{demoUserKey}").ClickAsync();
        await Assertions.Expect(page.GetByTestId("signed-in-user")).ToHaveTextAsync(displayName);
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Documents" })).ToBeVisibleAsync();
        await ChromiumApp.WaitInteractiveAsync(page);
        return page;
    }

    [ChromiumFact]
    public async Task Staff_signs_in_opens_a_folder_by_clicking_and_downloads_a_document()
    {
        var page = await SignInAsync("staff", "Sam Staff");
        // The open page is one live circuit in the metrics.
        Assert.Contains("\nportal_active_circuits 1\n", await (await page.APIRequest.GetAsync("/metrics")).TextAsync());

        // The tree shows what staff may browse, and not the Board folder.
        var tree = page.GetByTestId("folder-tree");
        await Assertions.Expect(tree.GetByText("Company", new() { Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(tree.GetByText("Board", new() { Exact = true })).ToHaveCountAsync(0);

        // Clicking a tree node is handled over the circuit: the URL and the listing change without a page load.
        await tree.GetByText("Company", new() { Exact = true }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/folders/[0-9a-f-]{36}$"));
        await Assertions.Expect(page.GetByTestId("folder-title")).ToHaveTextAsync("Company");
        await Assertions.Expect(page.GetByTestId("document-name")).ToHaveTextAsync(["Welcome.txt"]);

        await Screenshots.SaveAsync(page, "folder");
        var download = await page.RunAndWaitForDownloadAsync(() => AdminSteps.RowActionAsync(page, "Welcome.txt", "download-link"));
        Assert.Equal("Welcome.txt", download.SuggestedFilename);
        var saved = await download.PathAsync();
        Assert.StartsWith("Welcome to the portal.", await File.ReadAllTextAsync(saved));

        var downloads = (await app.AuditEventsAsync()).Where(e => e.Action == AuditAction.DocumentDownloaded).ToList();
        var e = Assert.Single(downloads);
        Assert.Equal((AuditOutcome.Allowed, "Welcome.txt", "Sam Staff"), (e.Outcome, e.TargetName, e.ActorDisplayName));
    }

    /// <summary>
    /// Issue 25: a page on another site (localhost is another site than 127.0.0.1 to the browser) sends a signed-in
    /// person's browser to a download link. The browser says cross-site; the portal asks first and records nothing, and
    /// only the person's own press of the button (same-origin) downloads and is recorded.
    /// </summary>
    [ChromiumFact]
    public async Task A_link_on_another_site_asks_before_downloading_and_nothing_is_recorded_until_the_button_is_pressed()
    {
        var welcome = await app.WithDbAsync(db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleAsync(
            db.Documents, d => d.DisplayName == "Welcome.txt" && !d.IsDeleted));
        var portal = app.KestrelAddress!;
        await using var otherSite = await OtherSiteAsync(
            $"""<!DOCTYPE html><html lang="en"><title>Elsewhere</title><a id="go" href="{portal.GetLeftPart(UriPartial.Authority)}/d/{welcome.Id}">Salaries</a></html>""");
        var page = await SignInAsync("staff", "Sam Staff");
        var downloads = 0;
        page.Download += (_, _) => Interlocked.Increment(ref downloads);

        await page.GotoAsync($"http://localhost:{otherSite.Port}/");
        await page.Locator("#go").ClickAsync();

        // Only Chromium's Sec-Fetch-Site: cross-site brings this page (a same-origin click downloads at once).
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Download «Welcome.txt»?");
        Assert.StartsWith(portal.GetLeftPart(UriPartial.Authority), page.Url);
        Assert.Equal(0, downloads);
        Assert.DoesNotContain(await app.AuditEventsAsync(), e => e.Action is AuditAction.DocumentDownloaded or AuditAction.DocumentViewed);
        await page.SetViewportSizeAsync(390, 844);
        // WCAG 2.1 AA as axe checks it (installed by test.sh; a quick local run without it skips only this check).
        string? axe = null;
        try { axe = AccessibilityTests.AxeScript(); }
        catch (InvalidOperationException) when (!TestEnvironment.IsCi) { }
        if (axe is not null) Assert.Empty(await AccessibilityTests.CheckAsync(page, await File.ReadAllTextAsync(axe), "cross-site question, 390 px"));

        // The button is the first thing the keyboard reaches; Enter on it downloads, from our own origin.
        await page.Keyboard.PressAsync("Tab");
        await Assertions.Expect(page.GetByTestId("plain-page-action")).ToBeFocusedAsync();
        var download = await page.RunAndWaitForDownloadAsync(() => page.Keyboard.PressAsync("Enter"));

        Assert.Equal("Welcome.txt", download.SuggestedFilename);
        Assert.StartsWith("Welcome to the portal.", await File.ReadAllTextAsync(await download.PathAsync()));
        var e = Assert.Single(await app.AuditEventsAsync(), e => e.Action == AuditAction.DocumentDownloaded);
        Assert.Equal((AuditOutcome.Allowed, welcome.Id, "Sam Staff", "same-origin"), (e.Outcome, e.DocumentId, e.ActorDisplayName, e.FetchSite));
    }

    /// <summary>"Another site": a page served on loopback, to be opened as http://localhost:port (a site other than 127.0.0.1).</summary>
    private static async Task<OtherSite> OtherSiteAsync(string html)
    {
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(System.Net.IPAddress.Loopback, 0));
        var site = builder.Build();
        site.Run(http =>
        {
            http.Response.ContentType = "text/html; charset=utf-8";
            return http.Response.WriteAsync(html);
        });
        await site.StartAsync();
        return new OtherSite(site, new Uri(site.Urls.Single()).Port);
    }

    private sealed record OtherSite(Microsoft.AspNetCore.Builder.WebApplication Site, int Port) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Site.DisposeAsync();
    }

    [ChromiumFact]
    public async Task Staff_opens_a_text_document_in_a_new_tab_and_is_offered_no_open_for_other_types_or_without_download()
    {
        var page = await SignInAsync("staff", "Sam Staff");
        var tree = page.GetByTestId("folder-tree");
        await tree.GetByText("Company", new() { Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("document-name")).ToHaveTextAsync(["Welcome.txt"]);

        // Its name shows the text in a new tab (inline), whose address ends in the name (the tab shows it), and the view
        // is on the record as a view, not a download.
        var tab = await page.Context.RunAndWaitForPageAsync(() => page.GetByTestId("document-name").ClickAsync());
        await Assertions.Expect(tab.Locator("body")).ToContainTextAsync("Welcome to the portal.");
        Assert.Matches("/v/[0-9a-f-]{36}/Welcome.txt$", tab.Url);
        var e = Assert.Single(await app.AuditEventsAsync(), e => e.Action is AuditAction.DocumentViewed or AuditAction.DocumentDownloaded);
        Assert.Equal((AuditAction.DocumentViewed, AuditOutcome.Allowed, "Welcome.txt", "Sam Staff"), (e.Action, e.Outcome, e.TargetName, e.ActorDisplayName));

        // Markdown is not shown inline (only PDF, images and plain text are): its name downloads it, its menu has no Open.
        await tree.GetByText("Policies", new() { Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("document-name")).ToHaveTextAsync(["Expense policy.md", "Résumé été 2026.txt"]);
        var md = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("document-name").GetByText("Expense policy.md").ClickAsync());
        Assert.Equal("Expense policy.md", md.SuggestedFilename);
        await AdminSteps.RowActionAsync(page, "Expense policy.md", "download-link"); // the menu is open: Download, no Open
        await Assertions.Expect(page.GetByTestId("open-link")).ToHaveCountAsync(0);
        await page.Keyboard.PressAsync("Escape");
        // Non-ASCII text reads as written (UTF-8), not "RÃ©sumÃ©".
        var resume = await page.Context.RunAndWaitForPageAsync(() => page.GetByTestId("document-name").GetByText("Résumé été 2026.txt").ClickAsync());
        await Assertions.Expect(resume.Locator("body")).ToHaveTextAsync("Résumé of the summer policy changes (a non-ASCII name).");

        // A CSV in a folder Sam may only browse: neither Download nor Open, and the row says so.
        await tree.GetByText("Reports 2026", new() { Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("document-name")).ToHaveTextAsync(["Q3 results.csv"]);
        await Assertions.Expect(page.GetByText("No download")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("a[data-testid=document-name]")).ToHaveCountAsync(0);
        await page.GetByTestId("row-menu").Locator("button").First.ClickAsync();
        await Assertions.Expect(page.GetByTestId("document-versions")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("open-link")).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByTestId("download-link")).ToHaveCountAsync(0);
    }

    [ChromiumFact]
    public async Task Staff_daily_flow_subfolder_from_the_list_search_open_by_name_download_and_a_refusal_explained_in_the_page()
    {
        var page = await SignInAsync("staff", "Sam Staff");
        // Landing: something to open at once, not an empty pane.
        await Assertions.Expect(page.GetByTestId("recent-documents").GetByTestId("document-name").First).ToBeVisibleAsync();
        await Screenshots.SaveAsync(page, "staff-landing");

        // A folder lists its subfolders first, then its documents; a subfolder opens from the list.
        await page.GetByTestId("folder-tree").GetByText("Company", new() { Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("subfolder-name")).ToHaveTextAsync(["Handbook", "Policies"]);
        var first = await page.Locator("tbody tr").First.GetAttributeAsync("data-testid");
        Assert.Equal("subfolder-row", first);
        await page.GetByTestId("subfolder-name").GetByText("Handbook", new() { Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("folder-title")).ToHaveTextAsync("Handbook");
        await Assertions.Expect(page.GetByTestId("breadcrumb")).ToContainTextAsync("Company");
        // Times in the viewer's zone, the exact UTC kept for the tooltip.
        await Assertions.Expect(page.GetByTestId("local-time").First).ToHaveAttributeAsync("data-utc", new System.Text.RegularExpressions.Regex(" UTC$"));

        // Search highlights the match.
        await page.GetByTestId("search-input").FillAsync("handb");
        await page.GetByTestId("search-input").PressAsync("Enter");
        await Assertions.Expect(page.GetByTestId("document-name")).ToHaveTextAsync(["Staff handbook.txt"]);
        await Assertions.Expect(page.GetByTestId("document-name").Locator("mark")).ToHaveTextAsync(["handb"]);
        await Screenshots.SaveAsync(page, "staff-search");

        // Open by name (a new tab), download from the row's menu.
        var tab = await page.Context.RunAndWaitForPageAsync(() => page.GetByTestId("document-name").ClickAsync());
        await Assertions.Expect(tab.Locator("body")).ToContainTextAsync("Chapter 1: working hours.");
        await tab.CloseAsync();
        await page.GotoAsync("/");
        await ChromiumApp.WaitInteractiveAsync(page);
        await AdminSteps.OpenFolderAsync(page, "Handbook");
        var download = await page.RunAndWaitForDownloadAsync(() => AdminSteps.RowActionAsync(page, "Staff handbook.txt", "download-link"));
        Assert.Equal("Staff handbook.txt", download.SuggestedFilename);

        // The right is taken away while the list is on the screen: the click explains why in the page, no file named after an id.
        await app.WithDbAsync(async db =>
        {
            var company = db.Folders.Single(f => f.Name == "Company").Id;
            foreach (var entry in db.PermissionEntries.Where(e => e.FolderId == company)) entry.Rights &= ~Portal.Data.Permissions.Rights.Download;
            return await db.SaveChangesAsync();
        });
        var downloadsBefore = (await app.AuditEventsAsync()).Count(e => e.Action == AuditAction.DocumentDownloaded);
        await AdminSteps.RowActionAsync(page, "Staff handbook.txt", "download-link");
        await Assertions.Expect(page.GetByTestId("action-message")).ToContainTextAsync("You may no longer download \"Staff handbook.txt\"");
        await Screenshots.SaveAsync(page, "staff-refused");
        Assert.Equal(downloadsBefore, (await app.AuditEventsAsync()).Count(e => e.Action == AuditAction.DocumentDownloaded));
    }

    [ChromiumFact]
    public async Task An_admin_creates_a_folder_and_uploads_two_files_watching_each_ones_progress()
    {
        var page = await SignInAsync("admin", "Ada Admin");
        await AdminSteps.OpenFolderAsync(page, "Company");
        await AdminSteps.CreateFolderAsync(page, "Onboarding 2027");
        await Assertions.Expect(page.GetByTestId("breadcrumb")).ToContainTextAsync("Company");

        // Slow the upload so each file's bar has steps to show (Chromium's own network throttling).
        var cdp = await page.Context.NewCDPSessionAsync(page);
        await cdp.SendAsync("Network.emulateNetworkConditions", new Dictionary<string, object>
        {
            ["offline"] = false, ["latency"] = 0, ["downloadThroughput"] = -1, ["uploadThroughput"] = 2 * 1024 * 1024,
        });
        // Both dropped onto the folder at once, each with its own bar and message.
        var progress = await AdminSteps.DropAsync(page, ("Onboarding checklist.pdf", "application/pdf", 900 * 1024), ("Équipe 2027.txt", "text/plain", 5));

        // The larger file's own bar moved through several steps, never backwards, to 100.
        var big = progress["Onboarding checklist.pdf"];
        Assert.True(big.Count(p => p is > 0 and < 100) >= 2, $"steps seen: {string.Join(", ", big)}");
        Assert.Equal(big.Order(), big);
        Assert.Equal(100, big[^1]);
        Assert.Equal(100, progress["Équipe 2027.txt"][^1]);
        await Assertions.Expect(page.GetByTestId("document-name")).ToHaveTextAsync(["Équipe 2027.txt", "Onboarding checklist.pdf"]);
        await Screenshots.SaveAsync(page, "upload");
        var uploaded = (await app.AuditEventsAsync()).Where(e => e.Action == AuditAction.DocumentUploaded).Select(e => e.TargetName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["Onboarding checklist.pdf", "Équipe 2027.txt"], uploaded);
        Assert.Single(await app.AuditEventsAsync(), e => e.Action == AuditAction.FolderCreated && e.TargetName == "Onboarding 2027" && e.TargetPath == "/Company/Onboarding 2027");

        // Deleting it asks first, naming it and counting what goes to the bin with it; the bin gives it back.
        await page.GetByTestId("delete-folder").ClickAsync();
        await Assertions.Expect(page.GetByTestId("delete-question")).ToHaveTextAsync("\"Onboarding 2027\" holds 0 folder(s) and 2 document(s). The folder and all of it go to the bin.");
        await Screenshots.SaveAsync(page, "delete-folder-dialog");
        await page.GetByTestId("confirm-delete").ClickAsync();
        await Assertions.Expect(page.GetByTestId("folder-title")).ToHaveTextAsync("Company");
        await Assertions.Expect(page.GetByTestId("action-message")).ToContainTextAsync("with 0 folder(s) and 2 document(s)");
        await page.GetByRole(AriaRole.Link, new() { Name = "Bin" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("bin-name")).ToHaveTextAsync(["Onboarding 2027"]);
        await Screenshots.SaveAsync(page, "bin");
        await page.GetByTestId("restore").ClickAsync();
        await Assertions.Expect(page.GetByTestId("action-message")).ToContainTextAsync("Restored \"Onboarding 2027\" to /Company.");
        await page.GotoAsync("/");
        await AdminSteps.OpenFolderAsync(page, "Onboarding 2027");
        await Assertions.Expect(page.GetByTestId("document-name")).ToHaveTextAsync(["Équipe 2027.txt", "Onboarding checklist.pdf"]);
    }

    [ChromiumFact]
    public async Task A_file_over_the_limit_shows_the_reason_on_its_own_row_and_the_other_file_is_stored()
    {
        var page = await SignInAsync("admin", "Ada Admin");
        await AdminSteps.OpenFolderAsync(page, "Handbook");

        await AdminSteps.ChooseFilesAsync(page,
            new FilePayload { Name = "too big.bin", MimeType = "application/octet-stream", Buffer = new byte[2 * 1024 * 1024] },
            new FilePayload { Name = "fine.txt", MimeType = "text/plain", Buffer = "fine"u8.ToArray() });

        var rows = page.GetByTestId("upload-file");
        await Assertions.Expect(rows.Nth(0).GetByTestId("upload-file-message")).ToContainTextAsync("\"too big.bin\" is larger than the limit of 1 MiB", new() { Timeout = 15000 });
        await Assertions.Expect(rows.Nth(1).GetByTestId("upload-file-message")).ToHaveTextAsync("Uploaded.", new() { Timeout = 15000 });
        await Assertions.Expect(page.GetByTestId("document-name")).ToHaveTextAsync(["fine.txt", "Staff handbook.txt"]);
    }

    [ChromiumFact]
    public async Task Uploading_a_file_under_a_name_already_in_the_folder_says_it_became_the_next_version()
    {
        var page = await SignInAsync("admin", "Ada Admin");
        await AdminSteps.OpenFolderAsync(page, "Handbook");

        await AdminSteps.ChooseFilesAsync(page,
            new FilePayload { Name = "Staff handbook.txt", MimeType = "text/plain", Buffer = "Edition 2"u8.ToArray() });

        await Assertions.Expect(page.GetByTestId("upload-file-message"))
            .ToHaveTextAsync("Uploaded as version 2 of the document already here.", new() { Timeout = 15000 });
        await Assertions.Expect(page.GetByTestId("document-name")).ToHaveTextAsync(["Staff handbook.txt"]);
        await AdminSteps.RowActionAsync(page, "Staff handbook.txt", "document-versions");
        var versions = page.GetByTestId("version");
        await Assertions.Expect(versions).ToHaveCountAsync(2);
        await Assertions.Expect(versions.Nth(0)).ToContainTextAsync("Version 2 (current) · 9 B");
        await Assertions.Expect(versions.Nth(1)).ToContainTextAsync("Version 1 ·");
    }

    [ChromiumFact]
    public async Task A_compliance_officer_with_no_folder_is_told_so_and_not_offered_a_search()
    {
        var page = await SignInAsync("compliance", "Cora Compliance"); // the demo grants compliance no folder

        await Assertions.Expect(page.GetByTestId("no-folders")).ToHaveTextAsync("No folders are shared with you yet.");
        await Assertions.Expect(page.GetByTestId("nothing-shared")).ToHaveTextAsync("No folder is shared with you yet. An administrator can give you access.");
        await Assertions.Expect(page.GetByTestId("search-input")).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByText("Pick a folder to see its documents.")).ToHaveCountAsync(0);
    }

    [ChromiumFact]
    public async Task On_a_phone_a_folder_shows_whole_names_with_their_download_links_and_whole_buttons_on_the_screen()
    {
        // The sign-in page first: an empty menu bar took a third of the width and pushed the buttons off the screen.
        var signIn = await chromium!.NewPageAsync();
        await signIn.SetViewportSizeAsync(390, 844);
        await signIn.GotoAsync("/signin");
        foreach (var button in await signIn.Locator("[data-testid^=signin-]").AllAsync()) await AssertOnScreenAsync(signIn, button);

        var page = await SignInAsync("admin", "Ada Admin");
        await page.SetViewportSizeAsync(390, 844);
        await page.GetByTestId("folder-tree").GetByText("Company", new() { Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("folder-title")).ToHaveTextAsync("Company");

        // The name on one line (a squeezed column stacked it a letter per line), Download beside it on the screen.
        var name = page.GetByTestId("document-name").Filter(new() { HasText = "Welcome.txt" });
        var nameBox = (await name.BoundingBoxAsync())!;
        Assert.True(nameBox.Height < 30, $"the name is {nameBox.Height} px high");
        var row = page.GetByRole(AriaRole.Row).Filter(new() { Has = name });
        await AssertOnScreenAsync(page, row.GetByTestId("row-menu").Locator("button").First);
        await Assertions.Expect(page.GetByRole(AriaRole.Columnheader, new() { Name = "Updated" })).ToHaveCountAsync(0);
        // Every folder action whole and on the screen ("RENAM", "MOV", and Delete off the edge), the search box too.
        var buttons = page.GetByTestId("folder-actions").Locator("button");
        Assert.True(await buttons.CountAsync() >= 4);
        foreach (var button in await buttons.AllAsync())
        {
            await AssertOnScreenAsync(page, button);
            Assert.True(await button.EvaluateAsync<bool>("b => b.scrollWidth <= b.clientWidth"), $"{await button.TextContentAsync()} is cut");
        }
        await AssertOnScreenAsync(page, page.GetByTestId("search-input"));
        await AssertNoSidewaysScrollAsync(page, "the folder");
        // The admin pages' wide tables scroll inside their box instead of widening the page.
        await page.GetByTestId("access-link").ClickAsync();
        await Assertions.Expect(page.GetByTestId("own-entries")).ToBeVisibleAsync();
        await AssertNoSidewaysScrollAsync(page, "who has access");
        await page.GotoAsync("/admin/users");
        await ChromiumApp.WaitInteractiveAsync(page);
        await Assertions.Expect(page.Locator("tr.user-row").First).ToBeVisibleAsync();
        await AssertNoSidewaysScrollAsync(page, "users");
        // Back to the access page (a page load), and once its circuit has taken over, back to the folder (the app's own
        // history). Pressed before the circuit is there, the second Back changed the address but left the access page
        // showing (once in a full run).
        await page.GoBackAsync();
        await Assertions.Expect(page.GetByTestId("own-entries")).ToBeVisibleAsync();
        await ChromiumApp.WaitInteractiveAsync(page);
        await page.GoBackAsync();
        await Assertions.Expect(page.GetByTestId("folder-title")).ToHaveTextAsync("Company");
        await ChromiumApp.WaitInteractiveAsync(page);
        await Assertions.Expect(page.GetByTestId("document-list")).ToBeVisibleAsync();

        // On a wide screen the size and date are back (a media query: nothing to ask the server).
        await page.SetViewportSizeAsync(1280, 800);
        await Assertions.Expect(page.GetByRole(AriaRole.Columnheader, new() { Name = "Updated" })).ToHaveCountAsync(1, new() { Timeout = 30000 });
    }

    private static async Task AssertNoSidewaysScrollAsync(IPage page, string what)
    {
        var widths = await page.EvaluateAsync<int[]>(
            "() => [document.documentElement.scrollWidth, document.querySelector('.mud-main-content').scrollWidth, document.querySelector('.mud-main-content').clientWidth]");
        Assert.True(widths[0] <= page.ViewportSize!.Width && widths[1] <= widths[2],
            $"{what}: the page's content is {widths[1]} px wide in a {widths[2]} px body ({page.ViewportSize!.Width} px window)");
    }

    private static async Task AssertOnScreenAsync(IPage page, ILocator element)
    {
        var box = (await element.BoundingBoxAsync())!;
        Assert.True(box.X >= 0 && box.X + box.Width <= page.ViewportSize!.Width,
            $"{await element.TextContentAsync()} spans {box.X}–{box.X + box.Width} px of a {page.ViewportSize!.Width} px window");
    }

    [ChromiumFact]
    public async Task Staff_search_by_name_across_the_folders_they_may_browse_and_nothing_else()
    {
        var page = await SignInAsync("staff", "Sam Staff");
        await page.GetByTestId("search-input").FillAsync("TXT");
        await page.GetByTestId("search-submit").ClickAsync();

        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/search\\?q=TXT$"));
        // Case and accents ignored; Board (no rights) never appears.
        await Assertions.Expect(page.GetByTestId("document-name")).ToHaveTextAsync(["Résumé été 2026.txt", "Staff handbook.txt", "Welcome.txt"]);
        await Assertions.Expect(page.GetByTestId("search-folder")).ToHaveTextAsync(["/Company/Policies", "/Company/Handbook", "/Company"]);
        await Screenshots.SaveAsync(page, "search");
    }

    [ChromiumFact]
    public async Task An_admin_deletes_a_document_finds_it_in_the_bin_and_restores_it()
    {
        var page = await SignInAsync("admin", "Ada Admin");
        await AdminSteps.OpenFolderAsync(page, "Policies");
        await AdminSteps.RowActionAsync(page, "Expense policy.md", "delete-document");
        await Assertions.Expect(page.GetByTestId("delete-question")).ToContainTextAsync("\"Expense policy.md\" (1 document, all its versions) goes to the bin.");
        await page.GetByTestId("confirm-delete").ClickAsync();
        await Assertions.Expect(page.GetByTestId("action-message")).ToContainTextAsync("moved to the bin");
        await Assertions.Expect(page.GetByTestId("document-name")).ToHaveTextAsync(["Résumé été 2026.txt"]);

        await page.GotoAsync("/bin");
        await ChromiumApp.WaitInteractiveAsync(page);
        await Assertions.Expect(page.GetByTestId("bin-name")).ToHaveTextAsync(["Expense policy.md"]);
        await Screenshots.SaveAsync(page, "bin");
        await page.GetByTestId("restore").ClickAsync();
        await Assertions.Expect(page.GetByTestId("action-message")).ToContainTextAsync("Restored \"Expense policy.md\" to /Company/Policies.");
        await Assertions.Expect(page.GetByTestId("bin-name")).ToHaveCountAsync(0);

        await page.GotoAsync("/");
        await AdminSteps.OpenFolderAsync(page, "Policies");
        await Assertions.Expect(page.GetByTestId("document-name")).ToHaveTextAsync(["Expense policy.md", "Résumé été 2026.txt"]);
        var actions = (await app.AuditEventsAsync()).Where(e => e.TargetName == "Expense policy.md").Select(e => e.Action).ToList();
        Assert.Equal([AuditAction.DocumentDeleted, AuditAction.DocumentRestored], actions);
    }

    [ChromiumFact]
    public async Task An_admin_who_deletes_a_folder_lands_in_its_parent_and_is_told_where_it_went()
    {
        var page = await SignInAsync("admin", "Ada Admin");
        await AdminSteps.OpenFolderAsync(page, "Company");
        await AdminSteps.CreateFolderAsync(page, "Minutes 2027");

        await page.GetByTestId("delete-folder").ClickAsync();
        await Assertions.Expect(page.GetByTestId("delete-question")).ToHaveTextAsync("\"Minutes 2027\" is empty. It goes to the bin.");
        await page.GetByTestId("confirm-delete").ClickAsync();

        await Assertions.Expect(page.GetByTestId("folder-title")).ToHaveTextAsync("Company");
        await Assertions.Expect(page.GetByTestId("action-message"))
            .ToContainTextAsync("Folder \"Minutes 2027\" moved to the bin. An administrator can restore it from there.");
        await Assertions.Expect(page.GetByTestId("folder-tree").GetByText("Minutes 2027", new() { Exact = true })).ToHaveCountAsync(0);
        // The parent's Delete button is not the one just pressed: Enter now does not delete the parent.
        await Assertions.Expect(page.GetByTestId("delete-folder")).Not.ToBeFocusedAsync();

        // The message belongs to that delete: the next folder opened does not repeat it.
        await AdminSteps.OpenFolderAsync(page, "Policies");
        await Assertions.Expect(page.GetByTestId("action-message")).ToHaveCountAsync(0);

        await page.GotoAsync("/bin");
        await ChromiumApp.WaitInteractiveAsync(page);
        await page.GetByTestId("restore").ClickAsync();
        await Assertions.Expect(page.GetByTestId("action-message")).ToContainTextAsync("Restored \"Minutes 2027\" to /Company.");

        // Made on pages (over the circuit), each change says where it came from, as a request would.
        var events = await app.AuditEventsAsync();
        foreach (var action in new[] { AuditAction.FolderCreated, AuditAction.FolderDeleted, AuditAction.FolderRestored })
        {
            var e = Assert.Single(events, e => e.Action == action && e.TargetName == "Minutes 2027");
            Assert.Equal("127.0.0.1", e.ClientIp);
            Assert.Contains("Chrome", e.UserAgent);
        }
    }

    [ChromiumFact]
    public async Task Staff_see_no_upload_control_where_they_may_not_upload()
    {
        var page = await SignInAsync("staff", "Sam Staff");
        await page.GetByTestId("folder-tree").GetByText("Company", new() { Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("document-name")).ToHaveTextAsync(["Welcome.txt"]);
        await Assertions.Expect(page.GetByTestId("upload")).ToHaveCountAsync(0);
    }

    [ChromiumFact]
    public async Task A_non_ascii_name_is_saved_under_exactly_that_name()
    {
        var page = await SignInAsync("staff", "Sam Staff");
        await page.GetByTestId("folder-tree").GetByText("Policies", new() { Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("folder-title")).ToHaveTextAsync("Policies");

        var download = await page.RunAndWaitForDownloadAsync(() => AdminSteps.RowActionAsync(page, "Résumé été 2026.txt", "download-link"));

        Assert.Equal("Résumé été 2026.txt", download.SuggestedFilename);
    }

    [ChromiumFact]
    public async Task Browse_only_folders_offer_no_download_and_the_server_refuses_one_anyway()
    {
        var page = await SignInAsync("staff", "Sam Staff");
        await page.GetByTestId("folder-tree").GetByText("Reports 2026", new() { Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("document-name")).ToHaveTextAsync(["Q3 results.csv"]);
        await Assertions.Expect(page.GetByTestId("download-link")).ToHaveCountAsync(0);

        // Typing the link by hand does not help: the server checks too.
        var docId = await app.WithDbAsync(db => Task.FromResult(db.Documents.Single(d => d.DisplayName == "Q3 results.csv").Id));
        var response = await page.APIRequest.GetAsync($"/d/{docId}");
        Assert.Equal(403, response.Status);

        // Opened as a link, it is a page that says why and leads back, not a JSON document.
        var opened = await page.GotoAsync($"/d/{docId}");
        Assert.Equal(403, opened!.Status);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "No access to this document" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("plain-page-message")).ToHaveTextAsync("You do not have permission to download this document.");
        await page.GetByRole(AriaRole.Link, new() { Name = "Back to the documents" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("signed-in-user")).ToHaveTextAsync("Sam Staff");
    }
}
