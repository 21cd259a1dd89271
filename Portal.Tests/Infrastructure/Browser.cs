using Microsoft.Playwright;

namespace Portal.Tests.Infrastructure;

/// <summary>Debian's Chromium driven by Microsoft.Playwright (its own browser download is never used).</summary>
public static class Browser
{
    public static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync()
    {
        var chromium = TestEnvironment.ChromiumPath ?? throw new InvalidOperationException("Chromium is not installed: run ./test.sh, which installs it.");
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            // The machine has no outside network: keep Chromium from trying to reach it.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-quic", "--no-first-run"],
        });
        return (playwright, browser);
    }
}
