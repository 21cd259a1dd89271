using System.Net;
using Microsoft.Playwright;
using Portal.App.Hosting;
using Portal.Data.Audit;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Audit;

/// <summary>
/// One row per audited action: done through the real endpoints (HTTP) or the real UI (Chromium), it must produce
/// exactly one new audit event with the right action, outcome, actor, target and reason, and nothing secret.
/// To cover a new action, add a row to <see cref="Rows"/>: its name, what to prepare (not counted), what to do
/// (counted) and what the one event must say.
/// </summary>
public sealed class AuditedActionsTests(AuditWorld world) : IClassFixture<AuditWorld>
{
    /// <summary>An action and the event it must leave. <see cref="Arrange"/> runs first and its events are not counted.</summary>
    public sealed record AuditedAction(
        AuditAction Action, AuditOutcome Outcome, string? Actor,
        Func<AuditWorld, Task<object?>> Act, Action<AuditEvent, AuditWorld, object?> Check,
        Func<AuditWorld, Task<object?>>? Arrange = null);

    public static readonly Dictionary<string, AuditedAction> Rows = new()
    {
        ["sign-in"] = new(AuditAction.SignIn, AuditOutcome.Allowed, "Sam Staff",
            async w => await w.NewClientAsync("staff"),
            (e, w, _) => { Assert.Equal(w.Scenario.StaffUserId, e.ActorUserId); Assert.NotNull(e.SessionId); Assert.Contains("staff", e.ActorGroups); }),
        ["sign-in failure"] = new(AuditAction.SignInFailed, AuditOutcome.Denied, null,
            async w =>
            {
                var client = w.NewAnonymousClient();
                var token = SignIn.TokenOf(await client.GetStringAsync("/signin"));
                var response = await client.PostAsync("/auth/dev-signin", new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["user"] = "mallory", ["returnUrl"] = "/", ["__RequestVerificationToken"] = token,
                }));
                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
                return null;
            },
            (e, _, _) => { Assert.Null(e.ActorUserId); Assert.Contains("unknown demo user", e.Reason); }),
        ["sign-out"] = new(AuditAction.SignOut, AuditOutcome.Allowed, "Sam Staff",
            async w =>
            {
                var client = (HttpClient)w.Arranged!;
                var token = SignIn.TokenOf(await client.GetStringAsync("/"));
                var response = await client.PostAsync("/auth/signout", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));
                Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
                return null;
            },
            (e, w, _) => Assert.Equal(w.Scenario.StaffUserId, e.ActorUserId),
            Arrange: async w => await w.NewClientAsync("staff")),
        ["folder opened"] = new(AuditAction.FolderOpened, AuditOutcome.Allowed, "Sam Staff",
            async w =>
            {
                var page = (IPage)w.Arranged!;
                await page.GetByTestId("folder-tree").GetByText("Shared", new() { Exact = true }).ClickAsync();
                await Assertions.Expect(page.GetByTestId("folder-title")).ToHaveTextAsync("Shared", new() { Timeout = 20000 });
                return null;
            },
            (e, w, _) => { Assert.Equal(w.Scenario.SharedFolderId, e.FolderId); Assert.Equal("/Shared", e.TargetPath); },
            Arrange: async w => await w.NewPageAsync("staff")),
        ["document viewed"] = new(AuditAction.DocumentViewed, AuditOutcome.Allowed, "Sam Staff",
            async w => { Assert.Equal(HttpStatusCode.OK, (await w.Staff.GetAsync($"/v/{w.Scenario.SharedDocumentId}")).StatusCode); return null; },
            (e, w, _) => AssertTarget(e, w.Scenario.SharedDocumentId, "/Shared", Scenario.SharedDocumentName)),
        ["document view denied"] = new(AuditAction.DocumentViewed, AuditOutcome.Denied, "Sam Staff",
            async w => { Assert.Equal(HttpStatusCode.Forbidden, (await w.Staff.GetAsync($"/v/{w.Scenario.RestrictedDocumentId}")).StatusCode); return null; },
            (e, w, _) => { AssertTarget(e, w.Scenario.RestrictedDocumentId, "/Restricted", Scenario.RestrictedDocumentName); Assert.Equal("No Download right on the folder", e.Reason); }),
        ["document downloaded"] = new(AuditAction.DocumentDownloaded, AuditOutcome.Allowed, "Sam Staff",
            async w =>
            {
                var response = await w.Staff.GetAsync($"/d/{w.Scenario.SharedDocumentId}");
                Assert.Equal(w.Scenario.SharedContent, await response.Content.ReadAsByteArrayAsync());
                return null;
            },
            (e, w, _) =>
            {
                AssertTarget(e, w.Scenario.SharedDocumentId, "/Shared", Scenario.SharedDocumentName);
                Assert.Equal(w.Scenario.SharedContentHash, e.ContentHash);
                Assert.Equal(w.Scenario.SharedContent.Length, e.Size);
            }),
        ["download denied"] = new(AuditAction.DocumentDownloaded, AuditOutcome.Denied, "Sam Staff",
            async w => { Assert.Equal(HttpStatusCode.Forbidden, (await w.Staff.GetAsync($"/d/{w.Scenario.RestrictedDocumentId}")).StatusCode); return null; },
            (e, w, _) => { AssertTarget(e, w.Scenario.RestrictedDocumentId, "/Restricted", Scenario.RestrictedDocumentName); Assert.Equal("No Download right on the folder", e.Reason); }),
        ["download of a missing document"] = new(AuditAction.DocumentDownloaded, AuditOutcome.Denied, "Sam Staff",
            async w => { var id = Guid.NewGuid(); Assert.Equal(HttpStatusCode.NotFound, (await w.Staff.GetAsync($"/d/{id}")).StatusCode); return id; },
            (e, _, id) => { Assert.Equal((Guid)id!, e.DocumentId); Assert.Equal("No such document", e.Reason); }),
        ["compliance officer download denied"] = new(AuditAction.DocumentDownloaded, AuditOutcome.Denied, "Cora Compliance",
            // Separation of duties: reading the audit log gives no right to the documents it names.
            async w => { Assert.Equal(HttpStatusCode.Forbidden, (await w.Compliance.GetAsync($"/d/{w.Scenario.SharedDocumentId}")).StatusCode); return null; },
            (e, w, _) => AssertTarget(e, w.Scenario.SharedDocumentId, "/Shared", Scenario.SharedDocumentName)),
        ["document uploaded"] = new(AuditAction.DocumentUploaded, AuditOutcome.Allowed, "Ada Admin",
            async w => { Assert.Equal(HttpStatusCode.OK, (await w.UploadAsync(w.Admin, w.Scenario.SharedFolderId, "Minutes 2027.txt")).StatusCode); return null; },
            (e, w, _) => { Assert.Equal(w.Scenario.SharedFolderId, e.FolderId); Assert.Equal("Minutes 2027.txt", e.TargetName); Assert.NotNull(e.DocumentId); Assert.Equal(5, e.Size); }),
        ["upload denied"] = new(AuditAction.DocumentUploaded, AuditOutcome.Denied, "Sam Staff",
            async w => { Assert.Equal(HttpStatusCode.Forbidden, (await w.UploadAsync(w.Staff, w.Scenario.SharedFolderId, "sneaky.txt")).StatusCode); return null; },
            (e, w, _) => { Assert.Equal(w.Scenario.SharedFolderId, e.FolderId); Assert.Equal("No Upload right on the folder", e.Reason); }),
        ["audit log viewed"] = new(AuditAction.AuditLogViewed, AuditOutcome.Allowed, "Cora Compliance",
            async w =>
            {
                var page = (IPage)w.Arranged!;
                await page.GetByText("Audit log", new() { Exact = true }).ClickAsync();
                await Assertions.Expect(page.GetByTestId("audit-grid")).ToBeVisibleAsync(new() { Timeout = 20000 });
                return null;
            },
            (_, _, _) => { },
            Arrange: async w => await w.NewPageAsync("compliance")),
        ["audit exported"] = new(AuditAction.AuditExported, AuditOutcome.Allowed, "Cora Compliance",
            async w =>
            {
                var response = await w.Compliance.GetAsync("/audit/export.csv?outcome=Denied");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Contains("# manifest ", await response.Content.ReadAsStringAsync());
                return null;
            },
            (e, _, _) => Assert.Equal("CSV export; filter: ?outcome=Denied", e.Reason)),
        ["audit chain verified"] = new(AuditAction.AuditChainVerified, AuditOutcome.Allowed, "Cora Compliance",
            async w =>
            {
                var page = (IPage)w.Arranged!;
                await page.GetByTestId("verify-chain").ClickAsync();
                await Assertions.Expect(page.GetByTestId("verify-result")).ToContainTextAsync("the chain holds", new() { Timeout = 30000 });
                return null;
            },
            (e, _, _) => Assert.Contains("the chain holds", e.Reason),
            Arrange: async w =>
            {
                var page = await w.NewPageAsync("compliance");
                await page.GotoAsync("/audit");
                await Assertions.Expect(page.Locator("[data-interactive=true]")).ToHaveCountAsync(1, new() { Timeout = 15000 });
                return page;
            }),
        // Added by the branches that build them (rename, move, delete, restore, versions, bin, permissions,
        // inheritance, users, settings): one row each, in the same shape.
    };

    public static TheoryData<string> RowNames => new(Rows.Keys);

    private static void AssertTarget(AuditEvent e, Guid documentId, string path, string name)
    {
        Assert.Equal(documentId, e.DocumentId);
        Assert.Equal(path, e.TargetPath);
        Assert.Equal(name, e.TargetName);
    }

    [ChromiumTheory]
    [MemberData(nameof(RowNames))]
    public async Task Each_action_leaves_exactly_one_event_with_the_right_fields(string row)
    {
        var action = Rows[row];
        world.Arranged = action.Arrange is null ? null : await action.Arrange(world);
        var before = (await world.Host.AuditEventsAsync()).Count;

        var state = await action.Act(world);

        var added = await world.NewEventsSinceAsync(before);
        var e = Assert.Single(added);
        Assert.Equal((action.Action, action.Outcome, action.Actor), (e.Action, e.Outcome, e.ActorDisplayName));
        Assert.Equal("127.0.0.1", e.ClientIp);
        Assert.NotNull(e.CorrelationId);
        Assert.True(e.OccurredAt > DateTimeOffset.UtcNow.AddMinutes(-1) && e.OccurredAt <= DateTimeOffset.UtcNow.AddSeconds(1), $"time {e.OccurredAt:O}");
        action.Check(e, world, state);
        // Never a token or a secret: no cookie, antiforgery token or session cookie value appears in any field.
        var text = string.Join("\n", typeof(AuditEvent).GetProperties().Select(p => p.GetValue(e)?.ToString()));
        foreach (var secret in world.Secrets()) Assert.DoesNotContain(secret, text);
        Assert.Null(AuditChain.FindFirstBroken(await world.Host.AuditEventsAsync()));
    }
}

/// <summary>The app on Kestrel with the scenario, signed-in HTTP clients and Chromium, shared by the rows.</summary>
public sealed class AuditWorld : IAsyncLifetime
{
    private readonly List<CookieContainer> _jars = [];
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private TestDatabase? _database;

    public PortalHost Host { get; private set; } = null!;
    public Scenario Scenario { get; private set; } = null!;
    public HttpClient Staff { get; private set; } = null!;
    public HttpClient Admin { get; private set; } = null!;
    public HttpClient Compliance { get; private set; } = null!;
    /// <summary>What the current row's Arrange returned.</summary>
    public object? Arranged { get; set; }

    public async Task InitializeAsync()
    {
        if ((TestEnvironment.ChromiumPath is null || TestEnvironment.NginxPath is null) && !TestEnvironment.IsCi) return; // skipped
        _database = new SqliteTestDatabase();
        Host = new PortalHost(_database);
        Host.StartOnKestrel();
        Scenario = await Scenario.CreateAsync(Host.Services);
        Staff = await NewClientAsync("staff");
        Admin = await NewClientAsync("admin");
        Compliance = await NewClientAsync("compliance");
        foreach (var client in new[] { Staff, Admin })
            client.DefaultRequestHeaders.Add("RequestVerificationToken", SignIn.TokenOf(await client.GetStringAsync("/")));
        (_playwright, _browser) = await Browser.LaunchAsync();
    }

    public HttpClient NewAnonymousClient()
    {
        var jar = new CookieContainer();
        _jars.Add(jar);
        return new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = jar }) { BaseAddress = Host.KestrelAddress };
    }

    public async Task<HttpClient> NewClientAsync(string who)
    {
        var client = NewAnonymousClient();
        await SignIn.AsDemoUserAsync(client, who);
        return client;
    }

    /// <summary>A Chromium page signed in as <paramref name="who"/>, with the circuit connected.</summary>
    public async Task<IPage> NewPageAsync(string who)
    {
        var context = await _browser!.NewContextAsync(new BrowserNewContextOptions { BaseURL = Host.KestrelAddress!.ToString(), AcceptDownloads = true });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/signin");
        await page.GetByTestId($"signin-{who}").ClickAsync();
        await Assertions.Expect(page.Locator("[data-interactive=true]")).ToHaveCountAsync(1, new() { Timeout = 15000 });
        return page;
    }

    public Task<HttpResponseMessage> UploadAsync(HttpClient client, Guid folderId, string name)
    {
        var form = new MultipartFormDataContent();
        var part = new ByteArrayContent("Hello"u8.ToArray());
        part.Headers.TryAddWithoutValidation("Content-Disposition", $"form-data; name=\"files\"; filename=\"upload\"; filename*=UTF-8''{Uri.EscapeDataString(name)}");
        form.Add(part);
        return client.PostAsync($"/folders/{folderId}/documents", form);
    }

    /// <summary>
    /// The events added after <paramref name="before"/>, once no more arrive for a moment (a UI action records its
    /// event over the circuit, shortly after the click).
    /// </summary>
    public async Task<List<AuditEvent>> NewEventsSinceAsync(int before)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        List<AuditEvent> events;
        do
        {
            await Task.Delay(100);
            events = await Host.AuditEventsAsync();
        } while (events.Count == before && DateTime.UtcNow < deadline);
        await Task.Delay(1000); // a second event, which must not come, would come now
        return (await Host.AuditEventsAsync()).Skip(before).ToList();
    }

    /// <summary>Every cookie value and antiforgery token handed out so far.</summary>
    public IEnumerable<string> Secrets()
    {
        foreach (var jar in _jars)
            foreach (System.Net.Cookie c in jar.GetAllCookies())
                if (c.Value.Length >= 16) yield return c.Value;
        foreach (var client in new[] { Staff, Admin })
            if (client.DefaultRequestHeaders.TryGetValues("RequestVerificationToken", out var tokens))
                foreach (var t in tokens) yield return t;
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null) await _browser.DisposeAsync();
        _playwright?.Dispose();
        if (Host is not null) await Host.DisposeAsync();
        if (_database is not null) await _database.DisposeAsync();
    }
}
