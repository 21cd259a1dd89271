using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Portal.App.Auth;
using Portal.Data.Audit;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Auth;

/// <summary>
/// Through the app, as a browser sees it: requests keep a session alive; after 30 minutes without one, the next
/// download goes to the sign-in page, which says why, and the log gets the person's SignOut with the reason. A busy
/// session still ends at the configured longest lifetime.
/// </summary>
public sealed class SessionTimeoutTests
{
    /// <summary>The demo data's Welcome.txt, which staff may download.</summary>
    internal static async Task<Guid> WelcomeAsync(PortalHost app) =>
        await app.WithDbAsync(db => db.Documents.Where(d => d.DisplayName == "Welcome.txt").Select(d => d.Id).SingleAsync());

    [Fact]
    public async Task After_30_minutes_without_a_request_the_next_download_asks_to_sign_in_again_and_says_why()
    {
        var clock = new FakeClock(DateTimeOffset.UtcNow);
        await using var database = new SqliteTestDatabase();
        await using var app = new PortalHost(database, seedDemo: true) { Clock = clock };
        var client = app.CreateBrowserLikeClient();
        await SignIn.AsDemoUserAsync(client, "staff");
        var welcome = await WelcomeAsync(app);

        clock.Advance(TimeSpan.FromMinutes(29));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/d/{welcome}")).StatusCode);
        clock.Advance(TimeSpan.FromMinutes(29));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/d/{welcome}")).StatusCode);
        var lastActivity = clock.GetUtcNow();
        clock.Advance(TimeSpan.FromMinutes(30));

        // What an admin sees now, before the sweep: Sam was last seen at that download and has no live session.
        var admin = app.CreateBrowserLikeClient();
        await SignIn.AsDemoUserAsync(admin, "admin");
        var users = (await admin.GetFromJsonAsync<JsonElement>("/api/users")).EnumerateArray();
        var sam = users.Single(u => u.GetProperty("displayName").GetString() == "Sam Staff");
        Assert.Equal((lastActivity, 0), (sam.GetProperty("lastSeenAt").GetDateTimeOffset(), sam.GetProperty("activeSessions").GetInt32()));

        var refused = await client.GetAsync($"/d/{welcome}");
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        var location = refused.Headers.Location!.OriginalString;
        Assert.StartsWith("http://localhost/signin?ReturnUrl=%2Fd%2F", location);
        Assert.EndsWith("&ended=idle", location);
        var signInPage = await client.GetStringAsync(location);
        Assert.Contains("You were signed out after 30 minutes without activity. Sign in again to continue.", signInPage);
        // The refused request served nothing: the two downloads before it are all there are.
        Assert.Equal(2, (await app.AuditEventsAsync()).Count(e => e.Action == AuditAction.DocumentDownloaded));

        Assert.Equal(1, await app.Services.GetRequiredService<SessionExpiry>().SweepAsync());
        var signOut = Assert.Single(await app.AuditEventsAsync(), e => e.Action == AuditAction.SignOut);
        Assert.Equal(("Sam Staff", $"Session ended: no activity for 30 minutes (last activity {lastActivity:yyyy-MM-dd HH:mm:ss} UTC)"),
            (signOut.ActorDisplayName, signOut.Reason));

        // Signing in again works, with a new session.
        await SignIn.AsDemoUserAsync(client, "staff");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/d/{welcome}")).StatusCode);
    }

    [Fact]
    public async Task A_busy_session_ends_at_the_configured_longest_lifetime_and_the_sign_in_page_says_so()
    {
        var clock = new FakeClock(DateTimeOffset.UtcNow);
        await using var database = new SqliteTestDatabase();
        await using var app = new PortalHost(database, seedDemo: true, settings: new Dictionary<string, string?>
        {
            ["Sessions:IdleTimeout"] = "00:30:00", ["Sessions:MaxLifetime"] = "02:00:00",
        }) { Clock = clock };
        var client = app.CreateBrowserLikeClient();
        await SignIn.AsDemoUserAsync(client, "staff");
        var welcome = await WelcomeAsync(app);

        for (var i = 0; i < 5; i++) // a download every 20 minutes, for 1 h 40 min
        {
            clock.Advance(TimeSpan.FromMinutes(20));
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/d/{welcome}")).StatusCode);
        }
        clock.Advance(TimeSpan.FromMinutes(20));
        var refused = await client.GetAsync($"/d/{welcome}");
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        Assert.EndsWith("&ended=lifetime", refused.Headers.Location!.OriginalString);
        Assert.Contains("You have been signed in for 2 hours, the longest a session lasts. Sign in again to continue.",
            await client.GetStringAsync(refused.Headers.Location));
    }

    [Theory]
    [InlineData("Sessions:IdleTimeout", "soon", "Sessions:IdleTimeout 'soon' is not a positive duration")]
    [InlineData("Sessions:MaxLifetime", "-01:00:00", "Sessions:MaxLifetime '-01:00:00' is not a positive duration")]
    [InlineData("Sessions:IdleTimeout", "13:00:00", "Sessions:IdleTimeout (13:00:00) is longer than Sessions:MaxLifetime (12:00:00)")]
    public void A_session_setting_that_cannot_work_stops_start_up_with_a_clear_message(string key, string value, string message)
    {
        var config = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build();
        var e = Assert.Throws<Portal.App.Hosting.StartupException>(() => SessionPolicy.Read(config));
        Assert.StartsWith(message, e.Message);
    }
}
