using System.Diagnostics;
using Microsoft.Playwright;

/// <summary>
/// `AuditBench page APP_URL ITERATIONS`: the compliance officer's audit page in Debian's Chromium. Measures what the
/// first render of /audit sends over the circuit (the bytes of every WebSocket frame from the server until the page is
/// interactive and quiet for 2 s), then the browser's round trip of each interaction (click to the page updated). The
/// server's own time per interaction is logged by the app (AuditPageTiming) and read by bench/audit-page.sh.
/// </summary>
public static class AuditPageBench
{
    public static async Task<int> RunAsync(string app, int iterations)
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium", Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = app, ViewportSize = new() { Width = 1280, Height = 900 } });
        context.SetDefaultTimeout(60000);
        var signIn = await context.NewPageAsync();
        await signIn.GotoAsync("/signin");
        await signIn.GetByTestId("signin-compliance").ClickAsync();
        await signIn.GetByTestId("signed-in-user").WaitForAsync();
        await signIn.CloseAsync();

        // The first render, three times (the first also warms the app up); the figure is the last one's.
        var payloads = new List<(long Html, long Received, long Sent, int Frames)>();
        IPage page = null!;
        for (var run = 0; run < 3; run++)
        {
            if (run > 0) await page.CloseAsync();
            page = await context.NewPageAsync();
            long received = 0, sent = 0, frames = 0, lastFrame = Stopwatch.GetTimestamp();
            page.WebSocket += (_, socket) =>
            {
                socket.FrameReceived += (_, f) => { Interlocked.Add(ref received, f.Binary?.Length ?? System.Text.Encoding.UTF8.GetByteCount(f.Text ?? "")); Interlocked.Increment(ref frames); Interlocked.Exchange(ref lastFrame, Stopwatch.GetTimestamp()); };
                socket.FrameSent += (_, f) => Interlocked.Add(ref sent, f.Binary?.Length ?? System.Text.Encoding.UTF8.GetByteCount(f.Text ?? ""));
            };
            var response = await page.GotoAsync("/audit");
            var html = (await response!.BodyAsync()).LongLength;
            await page.Locator("[data-interactive=true]").WaitForAsync();
            await page.GetByTestId("audit-action").First.WaitForAsync();
            while (Stopwatch.GetElapsedTime(Interlocked.Read(ref lastFrame)) < TimeSpan.FromSeconds(2)) await Task.Delay(200);
            payloads.Add((html, Interlocked.Read(ref received), Interlocked.Read(ref sent), (int)Interlocked.Read(ref frames)));
        }
        Console.WriteLine("### First render of /audit (compliance officer, no filter, 1280 × 900)");
        Console.WriteLine();
        Console.WriteLine("| run | prerendered HTML | circuit: server to browser | circuit: browser to server | frames received |");
        Console.WriteLine("|---|---|---|---|---|");
        for (var i = 0; i < payloads.Count; i++)
            Console.WriteLine($"| {i + 1}{(i == 0 ? " (cold)" : "")} | {Kb(payloads[i].Html)} | **{Kb(payloads[i].Received)}** | {Kb(payloads[i].Sent)} | {payloads[i].Frames} |");
        Console.WriteLine();
        var worst = payloads.Skip(1).Max(p => p.Received);
        Console.WriteLine($"Largest warm first render over the circuit: **{Kb(worst)}** (target: under 150 KB) — {(worst < 150 * 1024 ? "met" : "NOT met")}.");
        Console.WriteLine();

        // Interactions, each timed from the click to the page showing its result (the browser's round trip).
        var range = page.GetByTestId("page-range");
        var rounds = new Dictionary<string, List<double>>();
        async Task Time(string name, Func<Task> click, Func<Task> done)
        {
            var started = Stopwatch.GetTimestamp();
            await click();
            await done();
            (rounds.TryGetValue(name, out var list) ? list : rounds[name] = []).Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        async Task RangeChangesFrom(string before) =>
            await Assertions.Expect(range).Not.ToHaveTextAsync(before, new() { Timeout = 60000 });

        for (var i = 0; i < iterations; i++)
        {
            var before = await range.TextContentAsync() ?? "";
            await Time("turn a page (Older)", () => page.GetByTestId("page-older").ClickAsync(), () => RangeChangesFrom(before));
            before = await range.TextContentAsync() ?? "";
            await Time("turn a page (Newer)", () => page.GetByTestId("page-newer").ClickAsync(), () => RangeChangesFrom(before));
            before = await range.TextContentAsync() ?? "";
            await Time("run a report (Denied access)", () => page.GetByTestId("report-denied").ClickAsync(), () => RangeChangesFrom(before));
            before = await range.TextContentAsync() ?? "";
            await Time("change the filter (Clear)", () => page.GetByTestId("clear-filter").ClickAsync(), () => RangeChangesFrom(before));
            var row = page.GetByTestId("audit-grid").Locator("tbody tr").Nth(i % 10);
            var id = (await row.Locator("td").First.TextContentAsync())?.Trim();
            await Time("open an event", () => row.Locator("button.audit-open").ClickAsync(),
                () => Assertions.Expect(page.GetByTestId("audit-detail").Locator("h2")).ToContainTextAsync($"Event #{id}:", new() { Timeout = 60000 }));
            await page.GetByTestId("detail-close").ClickAsync(); // the drawer covers the grid's right side: closed before the next round
        }
        Console.WriteLine($"### Browser round trip per interaction (click to the page updated; {iterations} runs each, Chromium on the same machine)");
        Console.WriteLine();
        Console.WriteLine("| interaction | p50 | p95 | max |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var (name, list) in rounds)
        {
            list.Sort();
            Console.WriteLine($"| {name} | {list[list.Count / 2]:0} ms | {list[Math.Min(list.Count - 1, (int)Math.Round(0.95 * (list.Count - 1)))]:0} ms | {list[^1]:0} ms |");
        }
        return 0;
    }

    private static string Kb(long bytes) => $"{bytes / 1024.0:0.0} KB";
}
