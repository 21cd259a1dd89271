using Portal.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Portal.Tests.EndToEnd;

/// <summary>
/// What an administrator does on the folder page, step by step in Chromium, for any end-to-end flow to reuse
/// (create a folder, upload files and watch each one's progress).
/// </summary>
public static class AdminSteps
{
    /// <summary>Opens a folder by clicking it in the tree.</summary>
    public static async Task OpenFolderAsync(IPage page, string name)
    {
        // A click on the prerendered tree does nothing until the circuit is up: wait for it (busy machines are slow).
        await ChromiumApp.WaitInteractiveAsync(page);
        await page.GetByTestId("folder-tree").GetByText(name, new() { Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("folder-title")).ToHaveTextAsync(name);
    }

    /// <summary>Creates a folder inside the open one with the "New folder" button, then opens it.</summary>
    public static async Task CreateFolderAsync(IPage page, string name)
    {
        await page.GetByTestId("new-folder").ClickAsync();
        await page.GetByTestId("action-name").FillAsync(name);
        await page.GetByTestId("action-save").ClickAsync();
        await Assertions.Expect(page.GetByTestId("action-message")).ToContainTextAsync($"Folder \"{name}\" created.");
        await OpenFolderAsync(page, name);
    }

    /// <summary>
    /// Picks files in the upload control and waits until each has its own row with a progress bar at 100 % and
    /// "Uploaded.". Returns every progress value each file's bar showed, in order, by file name.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, IReadOnlyList<int>>> UploadAsync(IPage page, params FilePayload[] files)
    {
        await StartWatchingProgressAsync(page);
        await ChooseFilesAsync(page, files);

        var rows = page.GetByTestId("upload-file");
        await Assertions.Expect(rows).ToHaveCountAsync(files.Length);
        for (var i = 0; i < files.Length; i++)
        {
            var row = rows.Nth(i);
            await Assertions.Expect(row.Locator(".upload-file-name")).ToHaveTextAsync(files[i].Name);
            await Assertions.Expect(row.GetByTestId("upload-file-message")).ToHaveTextAsync("Uploaded.", new() { Timeout = 30000 });
            await Assertions.Expect(row.GetByTestId("upload-progress")).ToHaveJSPropertyAsync("value", 100);
        }
        var seen = await page.EvaluateAsync<Dictionary<string, int[]>>("() => window.portalProgress");
        return seen.ToDictionary(p => p.Key, p => (IReadOnlyList<int>)p.Value);
    }

    /// <summary>Picks files in the folder's upload control, once its script listens (the control is disabled until then).</summary>
    public static async Task ChooseFilesAsync(IPage page, params FilePayload[] files)
    {
        var input = page.GetByTestId("upload").Locator("input[type=file]");
        await Assertions.Expect(input).ToBeEnabledAsync(new() { Timeout = 15000 });
        await input.SetInputFilesAsync(files);
    }

    /// <summary>Records every value each file's progress bar takes (its data-percent), by file name.</summary>
    private static Task StartWatchingProgressAsync(IPage page) => page.EvaluateAsync("""
        () => {
            window.portalProgress = {};
            new MutationObserver(changes => {
                for (const c of changes) {
                    const row = c.target.closest('[data-testid=upload-file]');
                    const name = row.querySelector('.upload-file-name').textContent;
                    (window.portalProgress[name] ??= []).push(Number(c.target.getAttribute('data-percent')));
                }
            }).observe(document.querySelector('[data-testid=upload-files]'), { subtree: true, attributes: true, attributeFilter: ['data-percent'] });
        }
        """);
}
