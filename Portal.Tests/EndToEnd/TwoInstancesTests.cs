using System.Net;
using Microsoft.EntityFrameworkCore;
using Portal.App.Hosting;
using Portal.Data.Audit;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.EndToEnd;

/// <summary>Two app instances on one PostgreSQL: nothing in the app may assume it is the only process.</summary>
public sealed class TwoInstancesTests : IAsyncLifetime
{
    private TestDatabase database = null!;
    private PortalHost first = null!, second = null!;
    private Uri firstAddress = null!, secondAddress = null!;

    public async Task InitializeAsync()
    {
        database = new PostgresTestDatabase();
        first = new PortalHost(database, DeliveryMode.XAccel);
        firstAddress = first.StartOnKestrel();
        second = new PortalHost(database, DeliveryMode.XAccel);
        secondAddress = second.StartOnKestrel();
    }

    public async Task DisposeAsync()
    {
        await second.DisposeAsync();
        await first.DisposeAsync();
        await database.DisposeAsync();
    }

    [Fact]
    public async Task Sign_in_on_one_download_through_the_other_and_the_audit_chain_verifies()
    {
        var scenario = await Scenario.CreateAsync(first.Services);
        var cookies = new CookieContainer(); // cookies are per host, not per port: both instances see the session
        using var client = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false });
        client.BaseAddress = firstAddress;
        await SignIn.AsDemoUserAsync(client, "staff");

        var throughSecond = await client.GetAsync(new Uri(secondAddress, $"/d/{scenario.SharedDocumentId}"));
        Assert.Equal(HttpStatusCode.OK, throughSecond.StatusCode);
        Assert.True(throughSecond.Headers.Contains("X-Accel-Redirect"), "the second instance read the first one's cookie");

        // Both instances append to the one chain at the same time.
        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            client.GetAsync(new Uri(i % 2 == 0 ? firstAddress : secondAddress, $"/d/{scenario.SharedDocumentId}"))));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));

        var events = await first.AuditEventsAsync();
        Assert.Equal(41, events.Count(e => e.Action == AuditAction.DocumentDownloaded && e.Outcome == AuditOutcome.Allowed));
        Assert.Null(AuditChain.FindFirstBroken(events));
        // The key ring both instances use lives in the database.
        Assert.NotEmpty(await first.WithDbAsync(db => db.DataProtectionKeys.ToListAsync()));
    }

    [Fact]
    public async Task Signing_out_on_one_ends_the_session_on_the_other_within_the_cache_window()
    {
        var scenario = await Scenario.CreateAsync(first.Services);
        var cookies = new CookieContainer();
        using var client = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = firstAddress };
        await SignIn.AsDemoUserAsync(client, "staff");
        var url = new Uri(secondAddress, $"/d/{scenario.SharedDocumentId}");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(url)).StatusCode); // the second instance now caches "active"
        var kept = cookies.GetCookies(firstAddress)["portal.session"]!.Value; // what a thief would have kept

        var signOut = await client.PostAsync("/auth/signout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = SignIn.TokenOf(await client.GetStringAsync("/")),
        }));
        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);

        using var thief = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        HttpResponseMessage answer;
        do
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Add("Cookie", $"portal.session={kept}");
            answer = await thief.SendAsync(request);
            if (answer.StatusCode == HttpStatusCode.Redirect) break;
            await Task.Delay(250);
        } while (clock.Elapsed < TimeSpan.FromSeconds(15));

        Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
        Assert.True(clock.Elapsed <= Portal.App.Auth.SessionStore.CacheFor + TimeSpan.FromSeconds(1), $"took {clock.Elapsed}");
    }
}
