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

    /// <summary>Creates a folder inside the open one with the "New folder" dialog (Enter submits it), then opens it.</summary>
    public static async Task CreateFolderAsync(IPage page, string name)
    {
        await page.GetByTestId("new-folder").ClickAsync();
        await Assertions.Expect(page.GetByTestId("dialog-title")).ToContainTextAsync("New folder in");
        await page.GetByTestId("action-name").FillAsync(name);
        await page.GetByTestId("action-name").PressAsync("Enter");
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

    /// <summary>Opens a document row's menu and picks one of its items (by test id), e.g. "download-link", "delete-document".</summary>
    public static async Task RowActionAsync(IPage page, string documentName, string item)
    {
        var row = page.GetByTestId("document-row").Filter(new() { Has = page.GetByTestId("document-name").GetByText(documentName, new() { Exact = true }) });
        await row.GetByTestId("row-menu").Locator("button").First.ClickAsync();
        await page.GetByTestId(item).ClickAsync();
    }

    /// <summary>
    /// Drops files onto the folder's drop box, as a file manager would (a drop event carrying the files), and waits until
    /// each has its own row with a progress bar at 100 % and "Uploaded.". Returns each file's progress values by name.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, IReadOnlyList<int>>> DropAsync(IPage page, params (string Name, string Type, int Bytes)[] files)
    {
        var zone = page.GetByTestId("upload-drop");
        await Assertions.Expect(page.GetByTestId("upload").Locator("input[type=file]")).ToBeEnabledAsync(new() { Timeout = 15000 });
        await StartWatchingProgressAsync(page);
        var transfer = await page.EvaluateHandleAsync("""
            files => {
                const dt = new DataTransfer();
                for (const f of files) dt.items.add(new File([new Uint8Array(f.bytes).fill(65)], f.name, { type: f.type }));
                return dt;
            }
            """, files.Select(f => new { name = f.Name, type = f.Type, bytes = f.Bytes }).ToArray());
        await zone.DispatchEventAsync("dragover", new { dataTransfer = transfer });
        await zone.DispatchEventAsync("drop", new { dataTransfer = transfer });

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
