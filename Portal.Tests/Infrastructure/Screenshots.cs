using Microsoft.Playwright;

namespace Portal.Tests.Infrastructure;

/// <summary>Saves a page's screenshot when PORTAL_SCREENSHOTS names a folder (the README's images come from here).</summary>
public static class Screenshots
{
    public static async Task SaveAsync(IPage page, string name)
    {
        var folder = Environment.GetEnvironmentVariable("PORTAL_SCREENSHOTS");
        if (string.IsNullOrEmpty(folder)) return;
        Directory.CreateDirectory(folder);
        await page.SetViewportSizeAsync(1280, 720);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, name + ".png") });
    }
}
