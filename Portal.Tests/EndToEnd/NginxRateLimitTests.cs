using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Portal.App.Downloads;
using Portal.Data.Audit;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.EndToEnd;

/// <summary>X-Accel-Limit-Rate from the rate policy, and what a client hanging up looks like in the receipt.</summary>
public sealed class NginxRateLimitTests : IAsyncLifetime
{
    private const int Rate = 256 * 1024;
    private NginxStack stack = null!;
    private HttpClient staff = null!;

    public async Task InitializeAsync()
    {
        if (TestEnvironment.NginxPath is null && !TestEnvironment.IsCi) return;
        stack = await NginxStack.StartAsync(new Dictionary<string, string?> { ["Delivery:RateLimits:Default"] = Rate.ToString() }, sharedSize: 1024 * 1024);
        staff = await stack.SignedInClientAsync("staff");
    }

    public async Task DisposeAsync()
    {
        staff?.Dispose();
        if (stack is not null) await stack.DisposeAsync();
    }

    [NginxFact]
    public async Task One_MiB_at_256_KiB_per_second_takes_at_least_3_5_seconds()
    {
        var clock = Stopwatch.StartNew();
        var body = await staff.GetByteArrayAsync($"/d/{stack.Scenario.SharedDocumentId}");
        clock.Stop();

        Assert.Equal(stack.Scenario.SharedContent, body);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(3.5), $"took {clock.Elapsed.TotalSeconds:0.00} s");
        var e = (await stack.App.AuditEventsAsync()).Single(a => a.Action == AuditAction.DocumentDownloaded);
        Assert.True((await stack.ReceiptAsync(e.Id)).DurationMs >= 3500);
    }

    [NginxFact]
    public async Task A_client_that_hangs_up_halfway_leaves_an_aborted_receipt()
    {
        // MaxResponseDrainSize 0: on dispose HttpClient would otherwise read up to 1 MiB more to reuse the connection.
        using var hangsUp = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0, CookieContainer = new() }) { BaseAddress = stack.Nginx.Address };
        await SignIn.AsDemoUserAsync(hangsUp, "staff");
        using (var response = await hangsUp.GetAsync($"/d/{stack.Scenario.SharedDocumentId}", HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await using var stream = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[300 * 1024];
            await stream.ReadAtLeastAsync(buffer, buffer.Length);
        } // disposing the response closes the connection mid-transfer

        var e = (await stack.App.AuditEventsAsync()).Single(a => a.Action == AuditAction.DocumentDownloaded);
        var receipt = await stack.ReceiptAsync(e.Id);
        Assert.False(receipt.Completed);
        Assert.InRange(receipt.BytesSent, 300 * 1024, stack.Scenario.SharedContent.Length - 1);
    }
}

/// <summary>A per-user budget that holds across several downloads at once (X-Accel-Limit-Rate alone limits one request).</summary>
public sealed class NginxBandwidthBudgetTests : IAsyncLifetime
{
    private const int Budget = 768 * 1024;
    private NginxStack stack = null!;
    private HttpClient staff = null!;

    public async Task InitializeAsync()
    {
        if (TestEnvironment.NginxPath is null && !TestEnvironment.IsCi) return;
        stack = await NginxStack.StartAsync(new Dictionary<string, string?>
        {
            ["Delivery:RateLimits:Groups:staff"] = Budget.ToString(),
            ["Delivery:MaxConcurrentPerUser"] = "3",
        }, sharedSize: 1024 * 1024);
        staff = await stack.SignedInClientAsync("staff");
    }

    public async Task DisposeAsync()
    {
        staff?.Dispose();
        if (stack is not null) await stack.DisposeAsync();
    }

    [NginxFact]
    public async Task Three_downloads_at_once_share_the_budget_and_a_fourth_is_told_to_retry_later()
    {
        var url = $"/d/{stack.Scenario.SharedDocumentId}";
        var clock = Stopwatch.StartNew();
        var running = Enumerable.Range(0, 3).Select(async _ =>
        {
            var body = await staff.GetByteArrayAsync(url);
            return (Bytes: body.Length, Seconds: clock.Elapsed.TotalSeconds);
        }).ToList();
        // Until the app holds three slots for this person (the three are in flight); a fixed delay is flaky on a busy machine.
        var slots = stack.App.Services.GetRequiredService<DownloadSlots>();
        while (slots.InFlight(stack.Scenario.StaffUserId) < 3 && clock.Elapsed < TimeSpan.FromSeconds(3)) await Task.Delay(20);
        Assert.Equal(3, slots.InFlight(stack.Scenario.StaffUserId));

        var fourth = await staff.GetAsync(url);
        Assert.Equal(HttpStatusCode.TooManyRequests, fourth.StatusCode);
        Assert.True(int.Parse(fourth.Headers.GetValues("Retry-After").Single()) >= 1);

        var done = await Task.WhenAll(running);
        var totalBytes = done.Sum(d => (long)d.Bytes);
        var seconds = done.Max(d => d.Seconds);
        Assert.All(done, d => Assert.True(d.Seconds >= 3.5, $"one download took {d.Seconds:0.00} s"));
        Assert.True(totalBytes / seconds <= Budget * 1.1, $"together {totalBytes / seconds / 1024:0} KiB/s against a budget of {Budget / 1024} KiB/s");

        var events = (await stack.App.AuditEventsAsync()).Where(a => a.Action == AuditAction.DocumentDownloaded).ToList();
        Assert.Equal(3, events.Count(e => e.Outcome == AuditOutcome.Allowed));
        Assert.Equal("Too many downloads at once (limit 3)", Assert.Single(events, e => e.Outcome == AuditOutcome.Denied).Reason);

        // The receipts free the slots: the person can download again at once.
        foreach (var e in events.Where(e => e.Outcome == AuditOutcome.Allowed)) await stack.ReceiptAsync(e.Id);
        using var again = await staff.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }
}
