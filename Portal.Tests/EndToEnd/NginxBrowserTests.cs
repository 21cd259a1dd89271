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
    };

    [ChromiumTheory]
    [MemberData(nameof(Names))]
    public async Task Chromium_saves_the_file_under_exactly_the_documents_name(string name)
    {
        var doc = await Documents.AddAsync(stack.App.Services, stack.Scenario.SharedFolderId, name, 2048, "text/plain", seed: name.Length);
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

        Assert.Equal(name, download.SuggestedFilename);
        Assert.Equal(doc.Sha256, await Documents.Sha256Async(File.OpenRead((await download.PathAsync())!)));
        await context.DisposeAsync();
    }
}
