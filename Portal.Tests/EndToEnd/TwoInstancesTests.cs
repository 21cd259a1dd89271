using System.Net.Http.Json;
using System.Security.Cryptography;
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
        // As if behind nginx on loopback: X-Accel-Redirect goes only to a configured proxy (issue #25).
        var behindProxy = new Dictionary<string, string?> { ["ForwardedHeaders:KnownProxies"] = "127.0.0.1" };
        first = new PortalHost(database, DeliveryMode.XAccel, settings: behindProxy);
        firstAddress = first.StartOnKestrel();
        second = new PortalHost(database, DeliveryMode.XAccel, settings: behindProxy);
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

/// <summary>
/// Two app instances on one PostgreSQL and one storage folder behind one real nginx, with the production template's
/// sticky upstream: what docker-compose runs.
/// </summary>
public sealed class TwoInstancesBehindNginxTests : IAsyncLifetime
{
    private TestDatabase database = null!;
    private PortalHost first = null!, second = null!;
    private NginxServer nginx = null!;
    private Scenario scenario = null!;
    private string signInInstance = "";

    public async Task InitializeAsync()
    {
        database = new PostgresTestDatabase();
        var storage = TestEnvironment.NewTempFolder("shared-storage");
        var settings = new Dictionary<string, string?> { ["Storage:Root"] = storage, ["ForwardedHeaders:KnownProxies"] = "127.0.0.1" };
        first = new PortalHost(database, DeliveryMode.XAccel, settings: settings) { InstanceTag = "first" };
        second = new PortalHost(database, DeliveryMode.XAccel, settings: settings) { InstanceTag = "second" };
        var addresses = new[] { first.StartOnKestrel(), second.StartOnKestrel() };
        scenario = await Scenario.CreateAsync(first.Services);
        nginx = await NginxServer.StartAsync(addresses, storage);
    }

    public async Task DisposeAsync()
    {
        await nginx.DisposeAsync();
        await second.DisposeAsync();
        await first.DisposeAsync();
        await database.DisposeAsync();
    }

    [NginxFact]
    public async Task Sessions_stick_to_an_instance_uploads_on_both_keep_one_chain_and_a_lost_instance_loses_no_one()
    {
        // Before sign-in nginx picks the instance by client address: every sign-in below happens on this one.
        using (var anonymous = new HttpClient { BaseAddress = nginx.Address })
            signInInstance = await InstanceOfAsync(anonymous);
        // People sign in through nginx until both instances hold someone's session.
        var people = new Dictionary<string, HttpClient>();
        for (var i = 0; i < 24 && people.Count < 2; i++)
        {
            var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
                { BaseAddress = nginx.Address };
            await SignIn.AsDemoUserAsync(client, "admin");
            var instance = await InstanceOfAsync(client);
            if (!people.TryAdd(instance, client)) client.Dispose();
        }
        Assert.True(people.Count == 2, "24 sessions all landed on one instance: the upstream does not spread sessions");
        var onFirst = people["first"];
        var onSecond = people["second"];
        // So one of the two signed in on one instance and is served by the other from now on.
        Assert.Contains(people.Keys, instance => instance != signInInstance);
        // Sticky: the same person keeps reaching the same instance (the Blazor circuit depends on it).
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("first", await InstanceOfAsync(onFirst));
            Assert.Equal("second", await InstanceOfAsync(onSecond));
        }

        // Both upload at once, through nginx, into the same folder and storage; one file has the same content on both.
        var same = RandomNumberGenerator.GetBytes(200_000);
        var files = new[] { ("a.bin", RandomNumberGenerator.GetBytes(300_000)), ("same-a.bin", same) };
        var otherFiles = new[] { ("b.bin", RandomNumberGenerator.GetBytes(300_000)), ("same-b.bin", same) };
        var uploads = await Task.WhenAll(UploadAsync(onFirst, files), UploadAsync(onSecond, otherFiles));
        var uploaded = uploads.SelectMany(u => u).ToList();
        Assert.Equal(4, uploaded.Count);

        // Each downloads what the other uploaded, through nginx, byte for byte.
        var expected = files.Concat(otherFiles).ToDictionary(f => f.Item1, f => f.Item2);
        foreach (var (client, document) in new[] { (onFirst, uploaded.Single(d => d.Name == "b.bin")), (onSecond, uploaded.Single(d => d.Name == "a.bin")) })
            Assert.Equal(expected[document.Name], await client.GetByteArrayAsync($"/d/{document.Id}"));
        // Identical content is stored once, even when two instances wrote it at the same moment; nothing half-written stays.
        var stored = Directory.GetFiles(first.StorageRoot, "*", SearchOption.AllDirectories);
        Assert.Equal(1, stored.Count(f => Path.GetFileName(f) == Convert.ToHexStringLower(SHA256.HashData(same))));
        Assert.DoesNotContain(stored, f => f.Contains(".incoming"));

        // The instance holding the first person's session goes away: nginx sends them to the other one, which
        // knows their session (database) and can read the cookie (key ring in the database).
        await first.DisposeAsync();
        var after = await onFirst.GetAsync($"/d/{uploaded.Single(d => d.Name == "a.bin").Id}");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(expected["a.bin"], await after.Content.ReadAsByteArrayAsync());
        Assert.Equal("second", await InstanceOfAsync(onFirst));

        var events = await second.AuditEventsAsync();
        Assert.Null(AuditChain.FindFirstBroken(events));
        Assert.Equal(4, events.Count(e => e.Action == AuditAction.DocumentUploaded && e.Outcome == AuditOutcome.Allowed));
        Assert.Equal(3, events.Count(e => e.Action == AuditAction.DocumentDownloaded && e.Outcome == AuditOutcome.Allowed));
        foreach (var client in people.Values) client.Dispose();
    }

    /// <summary>Which instance answered this person (each test instance tags its responses).</summary>
    private static async Task<string> InstanceOfAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.GetValues("X-Test-Instance").Single();
    }

    private async Task<List<Portal.App.Documents.UploadedDocument>> UploadAsync(HttpClient client, (string Name, byte[] Bytes)[] files)
    {
        var token = SignIn.TokenOf(await client.GetStringAsync("/"));
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/folders/{scenario.SharedFolderId}/documents");
        request.Headers.Add("RequestVerificationToken", token);
        var form = new MultipartFormDataContent();
        foreach (var (name, bytes) in files) form.Add(new ByteArrayContent(bytes), "files", name);
        request.Content = form;
        using var response = await client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"upload answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<List<Portal.App.Documents.UploadedDocument>>())!;
    }
}
