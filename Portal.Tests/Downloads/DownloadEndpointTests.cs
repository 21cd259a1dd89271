using Microsoft.EntityFrameworkCore;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Portal.App.Hosting;
using Portal.Data.Audit;
using Portal.Data.Database;
using Portal.Data.Permissions;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Downloads;

/// <summary>GET /d/{id} through the real app on a real database: allowed, forbidden, unknown, not signed in.</summary>
public abstract class DownloadEndpointTests(DatabaseProvider provider) : IAsyncLifetime
{
    private TestDatabase database = null!;
    protected TestDatabase Database => database;

    public Task InitializeAsync()
    {
        database = TestDatabase.Create(provider);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await database.DisposeAsync();

    private async Task<(PortalHost Host, Scenario Scenario, HttpClient Staff)> StartAsync(DeliveryMode mode)
    {
        var host = new PortalHost(database, mode);
        var client = host.CreateBrowserLikeClient();
        var scenario = await Scenario.CreateAsync(host.Services);
        await SignIn.AsDemoUserAsync(client, "staff");
        return (host, scenario, client);
    }

    private static async Task<List<AuditEvent>> DownloadEventsAsync(PortalHost host) =>
        (await host.AuditEventsAsync()).Where(e => e.Action == AuditAction.DocumentDownloaded).ToList();

    [Fact]
    public async Task Direct_mode_streams_the_bytes_and_records_one_allowed_event()
    {
        var (host, scenario, staff) = await StartAsync(DeliveryMode.Direct);
        await using var _ = host;

        var response = await staff.GetAsync($"/d/{scenario.SharedDocumentId}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(scenario.SharedContent, body);
        Assert.Equal("application/pdf", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal(Scenario.SharedDocumentName, response.Content.Headers.ContentDisposition?.FileName);
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString());
        Assert.False(response.Headers.Contains("X-Accel-Redirect"));

        var e = Assert.Single(await DownloadEventsAsync(host));
        Assert.Equal(AuditOutcome.Allowed, e.Outcome);
        Assert.Equal(scenario.SharedDocumentId, e.DocumentId);
        Assert.Equal(scenario.StaffUserId, e.ActorUserId);
        Assert.Equal(Scenario.SharedDocumentName, e.TargetName);
        Assert.Equal("/Shared", e.TargetPath);
        Assert.Equal(scenario.SharedContentHash, e.ContentHash);
        Assert.Equal("staff", e.ActorGroups);
        Assert.NotNull(e.SessionId);
    }

    [Fact]
    public async Task Direct_mode_answers_a_range_with_206_and_those_bytes()
    {
        var (host, scenario, staff) = await StartAsync(DeliveryMode.Direct);
        await using var _ = host;

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/d/{scenario.SharedDocumentId}");
        request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(100, 199);
        var response = await staff.SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(scenario.SharedContent[100..200], await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("bytes=100-199", Assert.Single(await DownloadEventsAsync(host)).Range);
    }

    [Fact]
    public async Task Direct_mode_answers_if_none_match_with_304_and_if_range_with_the_range_only_while_unchanged()
    {
        var (host, scenario, staff) = await StartAsync(DeliveryMode.Direct);
        await using var _ = host;
        var etag = (await staff.GetAsync($"/d/{scenario.SharedDocumentId}")).Headers.ETag!;

        using var conditional = new HttpRequestMessage(HttpMethod.Get, $"/d/{scenario.SharedDocumentId}");
        conditional.Headers.IfNoneMatch.Add(etag);
        Assert.Equal(HttpStatusCode.NotModified, (await staff.SendAsync(conditional)).StatusCode);

        using var sameVersion = new HttpRequestMessage(HttpMethod.Get, $"/d/{scenario.SharedDocumentId}");
        sameVersion.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(0, 9);
        sameVersion.Headers.IfRange = new System.Net.Http.Headers.RangeConditionHeaderValue(etag);
        var partial = await staff.SendAsync(sameVersion);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(scenario.SharedContent[..10], await partial.Content.ReadAsByteArrayAsync());

        using var otherVersion = new HttpRequestMessage(HttpMethod.Get, $"/d/{scenario.SharedDocumentId}");
        otherVersion.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(0, 9);
        otherVersion.Headers.IfRange = new System.Net.Http.Headers.RangeConditionHeaderValue("\"something-else\"");
        var whole = await staff.SendAsync(otherVersion);
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal(scenario.SharedContent, await whole.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Direct_mode_writes_its_own_delivery_receipts_for_whole_files_and_ranges()
    {
        var (host, scenario, staff) = await StartAsync(DeliveryMode.Direct);
        await using var _ = host;

        await staff.GetByteArrayAsync($"/d/{scenario.SharedDocumentId}");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/d/{scenario.SharedDocumentId}");
        request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(0, 99);
        await staff.SendAsync(request);

        var events = await DownloadEventsAsync(host);
        var whole = await host.ReceiptAsync(events[0].Id);
        Assert.Equal((200, true, (long)scenario.SharedContent.Length), (whole.Status, whole.Completed, whole.BytesSent));
        var part = await host.ReceiptAsync(events[1].Id);
        Assert.Equal((206, true, 100L, "bytes=0-99"), (part.Status, part.Completed, part.BytesSent, part.Range));
    }

    [Fact]
    public async Task Direct_mode_records_a_client_that_hangs_up_as_aborted()
    {
        await using var host = new PortalHost(database, DeliveryMode.Direct);
        var address = host.StartOnKestrel(); // a real socket, so the app sees the client go
        var scenario = await Scenario.CreateAsync(host.Services);
        var big = await TestDocuments.AddAsync(host.Services, scenario.SharedFolderId, "big.bin", 64L * 1024 * 1024);
        using var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0, CookieContainer = new CookieContainer() }) { BaseAddress = address };
        await SignIn.AsDemoUserAsync(client, "staff");

        using (var response = await client.GetAsync($"/d/{big.Id}", HttpCompletionOption.ResponseHeadersRead))
        {
            await using var stream = await response.Content.ReadAsStreamAsync();
            await stream.ReadExactlyAsync(new byte[256 * 1024]);
        } // hang up

        var e = (await DownloadEventsAsync(host)).Single();
        var receipt = await host.ReceiptAsync(e.Id);
        Assert.False(receipt.Completed);
        Assert.InRange(receipt.BytesSent, 0, big.Size - 1);
    }

    [Fact]
    public async Task XAccel_mode_answers_with_the_redirect_headers_and_no_body()
    {
        var (host, scenario, staff) = await StartAsync(DeliveryMode.XAccel);
        await using var _ = host;

        var response = await staff.GetAsync($"/d/{scenario.SharedDocumentId}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        var hash = scenario.SharedContentHash;
        Assert.Equal($"/_protected/{hash[..2]}/{hash[2..4]}/{hash}", response.Headers.GetValues("X-Accel-Redirect").Single());
        Assert.Equal("no", response.Headers.GetValues("X-Accel-Buffering").Single());
        Assert.Equal("application/pdf", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());

        var e = Assert.Single(await DownloadEventsAsync(host));
        Assert.Equal(AuditOutcome.Allowed, e.Outcome);
        Assert.Equal(scenario.SharedDocumentId, e.DocumentId);
    }

    [Theory]
    [InlineData(DeliveryMode.Direct)]
    [InlineData(DeliveryMode.XAccel)]
    public async Task A_forbidden_download_answers_403_with_no_file_headers_and_records_one_denied_event(DeliveryMode mode)
    {
        var (host, scenario, staff) = await StartAsync(mode);
        await using var _ = host;

        var response = await staff.GetAsync($"/d/{scenario.RestrictedDocumentId}");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.False(response.Headers.Contains("X-Accel-Redirect"));
        Assert.Null(response.Content.Headers.ContentDisposition);
        Assert.DoesNotContain("confidential", await response.Content.ReadAsStringAsync());

        var e = Assert.Single(await DownloadEventsAsync(host));
        Assert.Equal(AuditOutcome.Denied, e.Outcome);
        Assert.Equal(scenario.RestrictedDocumentId, e.DocumentId);
        Assert.Equal(scenario.StaffUserId, e.ActorUserId);
        Assert.Equal("No Download right on the folder", e.Reason);
    }

    /// <summary>A person who follows a link they may not use reads why on a page; a script still gets the problem document.</summary>
    [Theory]
    [InlineData(DeliveryMode.Direct)]
    [InlineData(DeliveryMode.XAccel)]
    public async Task A_refused_link_opened_in_a_browser_answers_a_page_that_says_why_and_a_script_gets_json(DeliveryMode mode)
    {
        var (host, scenario, staff) = await StartAsync(mode);
        await using var _ = host;
        const string browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"; // Chromium's, navigating

        async Task<HttpResponseMessage> OpenAsync(string url, string? accept)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
            return await staff.SendAsync(request);
        }

        foreach (var (url, status, title, message) in new[]
        {
            ($"/d/{scenario.RestrictedDocumentId}", HttpStatusCode.Forbidden, "No access to this document", "You do not have permission to download this document."),
            ($"/v/{Guid.NewGuid()}", HttpStatusCode.NotFound, "Document not found", "No document has this id, or it was deleted."),
            ($"/d/{scenario.SharedDocumentId}?version=x", HttpStatusCode.BadRequest, "This link cannot be used", "The version must be a positive number."),
        })
        {
            var page = await OpenAsync(url, browserAccept);
            Assert.Equal((status, "text/html"), (page.StatusCode, page.Content.Headers.ContentType?.MediaType));
            Assert.False(page.Headers.Contains("X-Accel-Redirect"));
            Assert.Null(page.Content.Headers.ContentDisposition);
            var html = await page.Content.ReadAsStringAsync();
            Assert.Contains($"<h1>{title}</h1>", html);
            Assert.Contains($"<p data-testid=\"plain-page-message\">{message}</p>", html);
            Assert.Contains("<a href=\"/\" data-testid=\"plain-page-link\">Back to the documents</a>", html);

            var json = await OpenAsync(url, "application/json");
            Assert.Equal((status, "application/problem+json"), (json.StatusCode, json.Content.Headers.ContentType?.MediaType));
            Assert.Equal(message, (await json.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("detail").GetString());
        }
    }

    /// <summary>Shown inline, text names its charset: without it, Chromium showed "RÃ©sumÃ©" for the demo's "Résumé".</summary>
    [Theory]
    [InlineData(DeliveryMode.Direct)]
    [InlineData(DeliveryMode.XAccel)]
    public async Task Text_is_delivered_as_utf8_and_other_types_as_stored(DeliveryMode mode)
    {
        var (host, scenario, staff) = await StartAsync(mode);
        await using var _ = host;
        var text = await TestDocuments.AddAsync(host.Services, scenario.SharedFolderId, "notes.txt", 100, "text/plain");
        var csv = await TestDocuments.AddAsync(host.Services, scenario.SharedFolderId, "table.csv", 100, "text/csv; charset=windows-1252");

        Assert.Equal("text/plain; charset=utf-8", (await staff.GetAsync($"/v/{text.Id}")).Content.Headers.ContentType?.ToString());
        Assert.Equal("text/csv; charset=windows-1252", (await staff.GetAsync($"/d/{csv.Id}")).Content.Headers.ContentType?.ToString());
        Assert.Equal("application/pdf", (await staff.GetAsync($"/d/{scenario.SharedDocumentId}")).Content.Headers.ContentType?.ToString());
    }

    /// <summary>The embedded default has no nginx in front: the app itself keeps its pages out of frames and scripts to its own.</summary>
    [Fact]
    public async Task Pages_carry_the_security_headers_without_nginx_and_downloads_keep_their_own()
    {
        var (host, scenario, staff) = await StartAsync(DeliveryMode.Direct);
        await using var _ = host;

        foreach (var response in new[] { await staff.GetAsync($"/folders/{scenario.SharedFolderId}"), await host.CreateBrowserLikeClient().GetAsync("/signin") })
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
            Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
            Assert.Equal("same-origin", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
            var policy = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
            Assert.Contains("script-src 'self';", policy);
            Assert.Contains("frame-ancestors 'none'", policy);
        }
        var download = await staff.GetAsync($"/d/{scenario.SharedDocumentId}");
        Assert.Equal("nosniff", Assert.Single(download.Headers.GetValues("X-Content-Type-Options")));
        Assert.False(download.Headers.Contains("Content-Security-Policy"));
    }

    [Fact]
    public void The_refusal_page_encodes_what_it_shows()
    {
        var html = Portal.App.Downloads.RefusalPage.Html(404, "<script>alert(1)</script> & \"quotes\"");
        Assert.DoesNotContain("<script>", html);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;", html);
    }

    [Fact]
    public async Task An_unknown_id_answers_404_and_is_recorded_as_denied()
    {
        var (host, _, staff) = await StartAsync(DeliveryMode.XAccel);
        await using var _h = host;
        var unknown = Guid.NewGuid();

        var response = await staff.GetAsync($"/d/{unknown}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.False(response.Headers.Contains("X-Accel-Redirect"));
        var e = Assert.Single(await DownloadEventsAsync(host));
        Assert.Equal((AuditOutcome.Denied, unknown), (e.Outcome, e.DocumentId));
    }

    [Fact]
    public async Task Without_a_session_the_browser_is_sent_to_sign_in_and_nothing_is_served()
    {
        await using var host = new PortalHost(database, DeliveryMode.XAccel);
        var scenario = await Scenario.CreateAsync(host.Services);
        var anonymous = host.CreateBrowserLikeClient();

        var response = await anonymous.GetAsync($"/d/{scenario.SharedDocumentId}");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/signin", response.Headers.Location?.PathAndQuery);
        Assert.False(response.Headers.Contains("X-Accel-Redirect"));
        Assert.Empty(await DownloadEventsAsync(host));
    }

    /// <summary>
    /// The second download of a document by the same person starts from what the first one read (the decision cache).
    /// Each change here is made in the database, past the app, as another instance or someone at a SQL prompt would
    /// make it, between the two downloads: the second must be decided, recorded and answered on the new facts.
    /// </summary>
    [Theory]
    [InlineData("access revoked", HttpStatusCode.Forbidden)]
    [InlineData("group left", HttpStatusCode.Forbidden)]
    [InlineData("moved to a restricted folder", HttpStatusCode.Forbidden)]
    [InlineData("deleted", HttpStatusCode.NotFound)]
    [InlineData("renamed", HttpStatusCode.OK)]
    public async Task A_change_made_in_the_database_between_two_downloads_decides_the_second(string change, HttpStatusCode expected)
    {
        var (host, scenario, staff) = await StartAsync(DeliveryMode.Direct);
        await using var _ = host;
        Assert.Equal(HttpStatusCode.OK, (await staff.GetAsync($"/d/{scenario.SharedDocumentId}")).StatusCode);

        var shared = scenario.SharedDocumentId;
        await host.WithDbAsync(db => change switch
        {
            "access revoked" => db.PermissionEntries.Where(p => p.FolderId == scenario.SharedFolderId).ExecuteDeleteAsync(),
            "group left" => db.GroupMemberships.Where(m => m.UserId == scenario.StaffUserId).ExecuteDeleteAsync(),
            "moved to a restricted folder" => db.Documents.Where(d => d.Id == shared).ExecuteUpdateAsync(u => u.SetProperty(d => d.FolderId, scenario.RestrictedFolderId)),
            "deleted" => db.Documents.Where(d => d.Id == shared).ExecuteUpdateAsync(u => u.SetProperty(d => d.IsDeleted, true)),
            "renamed" => db.Documents.Where(d => d.Id == shared).ExecuteUpdateAsync(u => u.SetProperty(d => d.DisplayName, "Renamed report.pdf")),
            _ => throw new ArgumentOutOfRangeException(nameof(change)),
        });

        var second = await staff.GetAsync($"/d/{shared}");

        Assert.Equal(expected, second.StatusCode);
        var events = await DownloadEventsAsync(host);
        Assert.Equal(2, events.Count); // one event per download: the decision taken on old facts was not recorded
        var e = events[1];
        Assert.Equal(expected == HttpStatusCode.OK ? AuditOutcome.Allowed : AuditOutcome.Denied, e.Outcome);
        if (expected == HttpStatusCode.OK)
        {
            Assert.Equal(scenario.SharedContent, await second.Content.ReadAsByteArrayAsync());
            Assert.Equal("Renamed report.pdf", second.Content.Headers.ContentDisposition?.FileName);
            Assert.Equal("Renamed report.pdf", e.TargetName);
        }
        else
        {
            Assert.Null(second.Content.Headers.ContentDisposition);
            Assert.Equal(expected == HttpStatusCode.NotFound ? "No such document" : "No Download right on the folder", e.Reason);
        }
        if (change == "moved to a restricted folder") Assert.Equal("/Restricted", e.TargetPath);
    }

    /// <summary>A refusal is not kept either: access granted in the database after it is honoured at once.</summary>
    [Fact]
    public async Task Access_granted_in_the_database_after_a_refusal_is_honoured_on_the_next_download()
    {
        var (host, scenario, staff) = await StartAsync(DeliveryMode.Direct);
        await using var _ = host;
        Assert.Equal(HttpStatusCode.Forbidden, (await staff.GetAsync($"/d/{scenario.RestrictedDocumentId}")).StatusCode);

        await host.WithDbAsync(async db =>
        {
            db.PermissionEntries.Add(new PermissionEntry { Id = Guid.NewGuid(), FolderId = scenario.RestrictedFolderId, UserId = scenario.StaffUserId, Rights = Rights.Browse | Rights.Download });
            return await db.SaveChangesAsync();
        });
        var second = await staff.GetAsync($"/d/{scenario.RestrictedDocumentId}");

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("confidential", await second.Content.ReadAsStringAsync());
        Assert.Equal([AuditOutcome.Denied, AuditOutcome.Allowed], (await DownloadEventsAsync(host)).Select(e => e.Outcome));
    }

    /// <summary>The same through the app: an admin revokes the group's access between two downloads.</summary>
    [Fact]
    public async Task Access_revoked_by_an_admin_between_two_downloads_refuses_the_second()
    {
        var (host, scenario, staff) = await StartAsync(DeliveryMode.Direct);
        await using var _ = host;
        var admin = host.CreateBrowserLikeClient();
        await SignIn.AsDemoUserForFormsAsync(admin, "admin");
        Assert.Equal(HttpStatusCode.OK, (await staff.GetAsync($"/d/{scenario.SharedDocumentId}")).StatusCode);
        var entry = await host.WithDbAsync(db => db.PermissionEntries.Where(p => p.FolderId == scenario.SharedFolderId).Select(p => p.Id).SingleAsync());

        Assert.Equal(HttpStatusCode.OK, (await admin.DeleteAsync($"/api/permissions/{entry}")).StatusCode);

        Assert.Equal(HttpStatusCode.Forbidden, (await staff.GetAsync($"/d/{scenario.SharedDocumentId}")).StatusCode);
        Assert.Equal([AuditOutcome.Allowed, AuditOutcome.Denied], (await DownloadEventsAsync(host)).Select(e => e.Outcome));
    }

    [Fact]
    public async Task Every_event_links_to_the_one_before_and_the_chain_verifies()
    {
        var (host, scenario, staff) = await StartAsync(DeliveryMode.Direct);
        await using var _ = host;
        await staff.GetAsync($"/d/{scenario.SharedDocumentId}");
        await staff.GetAsync($"/d/{scenario.RestrictedDocumentId}");
        await staff.GetAsync($"/d/{Guid.NewGuid()}");

        var events = await host.AuditEventsAsync();
        Assert.True(events.Count >= 4, "sign-in plus three download attempts");
        Assert.Null(AuditChain.FindFirstBroken(events));
    }

    /// <summary>
    /// Issue 25: what /v shows inline runs in a sandbox (no script, an opaque origin) and loads nothing else; a PDF keeps
    /// the browser's viewer (no sandbox) but is never framed; /d answers as before, without a policy.
    /// </summary>
    [Fact]
    public async Task A_view_carries_a_sandboxing_policy_with_the_files_bytes_and_a_download_does_not()
    {
        var (host, scenario, staff) = await StartAsync(DeliveryMode.Direct);
        await using var _ = host;
        var image = await TestDocuments.AddAsync(host.Services, scenario.SharedFolderId, "photo.png", 3000, "image/png", seed: 3);
        var text = await TestDocuments.AddAsync(host.Services, scenario.SharedFolderId, "notes.txt", 2000, "text/plain", seed: 4);

        foreach (var (doc, seed) in new[] { (image, 3), (text, 4) })
        {
            var view = await staff.GetAsync($"/v/{doc.Id}/{Uri.EscapeDataString(doc.Name)}");
            Assert.Equal(HttpStatusCode.OK, view.StatusCode);
            Assert.Equal("inline", view.Content.Headers.ContentDisposition?.DispositionType);
            Assert.Equal(Portal.App.Downloads.DownloadEndpoints.SandboxedViewPolicy, Assert.Single(view.Headers.GetValues("Content-Security-Policy")));
            Assert.StartsWith("sandbox;", Portal.App.Downloads.DownloadEndpoints.SandboxedViewPolicy);
            Assert.Equal(TestDocuments.ExpectedBytes(doc.Size, seed), await view.Content.ReadAsByteArrayAsync());
        }
        var pdf = await staff.GetAsync($"/v/{scenario.SharedDocumentId}");
        var pdfPolicy = Assert.Single(pdf.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("frame-ancestors 'none'", pdfPolicy);
        Assert.DoesNotContain("sandbox", pdfPolicy);
        Assert.Equal(scenario.SharedContent, await pdf.Content.ReadAsByteArrayAsync());

        var download = await staff.GetAsync($"/d/{image.Id}");
        Assert.Equal("attachment", download.Content.Headers.ContentDisposition?.DispositionType);
        Assert.False(download.Headers.Contains("Content-Security-Policy"));
        Assert.Equal(TestDocuments.ExpectedBytes(image.Size, 3), await download.Content.ReadAsByteArrayAsync());
    }

    // ---- Issue 25: another site's navigation is not a download ----

    private const string NavigationAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"; // Chromium's

    /// <summary>A browser's navigation, with the Sec-Fetch-Site it would send (null: a client that sends none).</summary>
    private static async Task<HttpResponseMessage> NavigateAsync(HttpClient client, string url, string? fetchSite)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("Accept", NavigationAccept);
        if (fetchSite is not null)
        {
            request.Headers.TryAddWithoutValidation("Sec-Fetch-Site", fetchSite);
            request.Headers.TryAddWithoutValidation("Sec-Fetch-Mode", "navigate");
        }
        return await client.SendAsync(request);
    }

    private static async Task<List<AuditEvent>> DeliveryEventsAsync(PortalHost host) =>
        (await host.AuditEventsAsync()).Where(e => e.Action is AuditAction.DocumentDownloaded or AuditAction.DocumentViewed).ToList();

    /// <summary>The confirmation page's button, as the browser would follow it (the attribute decoded).</summary>
    private static string ButtonHref(string html)
    {
        var match = System.Text.RegularExpressions.Regex.Match(html, "<a class=\"button\" href=\"([^\"]*)\" data-testid=\"plain-page-action\">");
        Assert.True(match.Success, "the page has a button");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    [Theory]
    [InlineData(DeliveryMode.Direct, "/d/{0}", "Download «Quarterly report.pdf»?")]
    [InlineData(DeliveryMode.XAccel, "/d/{0}", "Download «Quarterly report.pdf»?")]
    [InlineData(DeliveryMode.Direct, "/v/{0}", "Open «Quarterly report.pdf»?")]
    [InlineData(DeliveryMode.XAccel, "/v/{0}/Quarterly%20report.pdf?version=1", "Open «Quarterly report.pdf»?")]
    [InlineData(DeliveryMode.Direct, "/d/{0}?version=1", "Download «Quarterly report.pdf»?")]
    public async Task A_cross_site_navigation_gets_a_question_and_nothing_is_recorded_or_sent_until_the_button_is_pressed(
        DeliveryMode mode, string path, string question)
    {
        var (host, scenario, staff) = await StartAsync(mode);
        await using var _ = host;
        var url = string.Format(System.Globalization.CultureInfo.InvariantCulture, path, scenario.SharedDocumentId);

        var asked = await NavigateAsync(staff, url, "cross-site");

        Assert.Equal(HttpStatusCode.OK, asked.StatusCode);
        Assert.Equal("text/html", asked.Content.Headers.ContentType?.MediaType);
        Assert.Null(asked.Content.Headers.ContentDisposition);
        Assert.False(asked.Headers.Contains("X-Accel-Redirect"));
        Assert.False(asked.Headers.Contains(Portal.App.Downloads.DownloadEndpoints.AuditHeader));
        Assert.Equal("DENY", Assert.Single(asked.Headers.GetValues("X-Frame-Options")));
        Assert.Equal("nosniff", Assert.Single(asked.Headers.GetValues("X-Content-Type-Options")));
        Assert.Contains("frame-ancestors 'none'", Assert.Single(asked.Headers.GetValues("Content-Security-Policy")));
        var html = await asked.Content.ReadAsStringAsync();
        Assert.Equal(question, WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Match(html, "<h1>(.*)</h1>").Groups[1].Value));
        Assert.Contains("lang=\"en\"", html);
        Assert.Empty(await DeliveryEventsAsync(host));

        // The button repeats the same request from our own origin: now it is a download, recorded as same-origin.
        var href = ButtonHref(html);
        Assert.Equal(url, href);
        var pressed = await NavigateAsync(staff, href, "same-origin");

        Assert.Equal(HttpStatusCode.OK, pressed.StatusCode);
        if (mode == DeliveryMode.Direct) Assert.Equal(scenario.SharedContent, await pressed.Content.ReadAsByteArrayAsync());
        else Assert.Single(pressed.Headers.GetValues("X-Accel-Redirect"));
        var e = Assert.Single(await DeliveryEventsAsync(host));
        Assert.Equal((AuditOutcome.Allowed, scenario.SharedDocumentId, "same-origin"), (e.Outcome, e.DocumentId, e.FetchSite));
        Assert.Equal(path.StartsWith("/v", StringComparison.Ordinal) ? AuditAction.DocumentViewed : AuditAction.DocumentDownloaded, e.Action);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("none", "none")]
    [InlineData("same-origin", "same-origin")]
    [InlineData("same-site", "same-site")]
    [InlineData("from-somewhere<script>", "other")]
    public async Task Same_origin_same_site_typed_and_header_less_requests_download_as_before_and_the_event_records_the_header(
        string? fetchSite, string? recorded)
    {
        var (host, scenario, staff) = await StartAsync(DeliveryMode.Direct);
        await using var _ = host;

        var response = await NavigateAsync(staff, $"/d/{scenario.SharedDocumentId}", fetchSite);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal(scenario.SharedContent, await response.Content.ReadAsByteArrayAsync());
        var e = Assert.Single(await DeliveryEventsAsync(host));
        Assert.Equal((AuditOutcome.Allowed, recorded), (e.Outcome, e.FetchSite));
    }

    /// <summary>The page names a document only to someone who may see it: otherwise it would tell what a hidden folder holds.</summary>
    [Fact]
    public async Task The_question_names_the_document_only_to_someone_with_browse_on_its_folder()
    {
        var (host, scenario, staff) = await StartAsync(DeliveryMode.Direct);
        await using var _ = host;
        var browseOnly = Scenario.NewFolder("Browse only");
        await host.WithDbAsync(async db =>
        {
            db.Folders.Add(browseOnly);
            db.PermissionEntries.Add(new PermissionEntry { Id = Guid.NewGuid(), FolderId = browseOnly.Id, GroupId = db.Groups.Single(g => g.Name == "staff").Id, Rights = Rights.Browse });
            return await db.SaveChangesAsync();
        });
        var listed = await TestDocuments.AddAsync(host.Services, browseOnly.Id, "Listed only.pdf", 100, "application/pdf");

        var hidden = await (await NavigateAsync(staff, $"/d/{scenario.RestrictedDocumentId}", "cross-site")).Content.ReadAsStringAsync();
        var unknown = await (await NavigateAsync(staff, $"/v/{Guid.NewGuid()}", "cross-site")).Content.ReadAsStringAsync();
        var seen = await (await NavigateAsync(staff, $"/d/{listed.Id}", "cross-site")).Content.ReadAsStringAsync();

        Assert.Contains("<h1>Download this document?</h1>", hidden);
        Assert.DoesNotContain("Board", hidden);
        Assert.Contains("<h1>Open this document?</h1>", unknown);
        Assert.Contains("Listed only.pdf", seen);
        Assert.Empty(await DeliveryEventsAsync(host));

        // Pressed, the hidden one is decided as any download: refused, and that refusal is recorded.
        var pressed = await NavigateAsync(staff, ButtonHref(hidden), "same-origin");
        Assert.Equal(HttpStatusCode.Forbidden, pressed.StatusCode);
        var e = Assert.Single(await DeliveryEventsAsync(host));
        Assert.Equal((AuditOutcome.Denied, scenario.RestrictedDocumentId), (e.Outcome, e.DocumentId));
    }

    [Fact]
    public async Task The_question_escapes_the_documents_name_and_every_part_of_the_request()
    {
        var (host, scenario, staff) = await StartAsync(DeliveryMode.Direct);
        await using var _ = host;
        const string hostile = "<script>alert(1)</script> & \"quoted\" 'x'.txt";
        var doc = await TestDocuments.AddAsync(host.Services, scenario.SharedFolderId, hostile, 100, "text/plain");
        var segment = Uri.EscapeDataString("\"><img src=x onerror=alert(2)>");

        var html = await (await NavigateAsync(staff, $"/v/{doc.Id}/{segment}?version=1&next=%22%3E%3Cb%3E", "cross-site")).Content.ReadAsStringAsync();

        Assert.DoesNotContain("<script>", html);
        Assert.DoesNotContain("<img", html);
        Assert.DoesNotContain("<b>", html);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot;", html);
        // Same path and version; nothing else from the query comes along.
        Assert.Equal($"/v/{doc.Id}/{segment}?version=1", ButtonHref(html));
    }
}

public sealed class SqliteDownloadEndpointTests() : DownloadEndpointTests(DatabaseProvider.Sqlite);

public sealed class PostgresDownloadEndpointTests() : DownloadEndpointTests(DatabaseProvider.PostgreSQL)
{
    [Theory]
    [InlineData(DeliveryMode.Direct)]
    [InlineData(DeliveryMode.XAccel)]
    public async Task A_database_that_refuses_writes_fails_the_download_closed_with_503_and_serves_nothing(DeliveryMode mode)
    {
        await using var host = new PortalHost(Database, mode);
        var scenario = await Scenario.CreateAsync(host.Services);
        var staff = host.CreateBrowserLikeClient();
        await SignIn.AsDemoUserAsync(staff, "staff");
        var before = (await host.AuditEventsAsync()).Count;

        // From now on every new connection to this database is read-only; drop the open ones.
        await using (var admin = new Npgsql.NpgsqlConnection(TestEnvironment.PostgresConnectionString))
        {
            await admin.OpenAsync();
            var name = new Npgsql.NpgsqlConnectionStringBuilder(Database.ConnectionString).Database;
            await new Npgsql.NpgsqlCommand($"ALTER DATABASE \"{name}\" SET default_transaction_read_only = on", admin).ExecuteNonQueryAsync();
            await new Npgsql.NpgsqlCommand($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()", admin).ExecuteNonQueryAsync();
        }
        Npgsql.NpgsqlConnection.ClearAllPools();

        var response = await staff.GetAsync($"/d/{scenario.SharedDocumentId}");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.False(response.Headers.Contains("X-Accel-Redirect"));
        Assert.Null(response.Content.Headers.ContentDisposition);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.DoesNotContain("at Portal.", System.Text.Encoding.UTF8.GetString(body)); // no stack trace
        Assert.NotEqual(scenario.SharedContent.Length, body.Length);
        // A person who clicked the link reads why, on a page.
        using var navigation = new HttpRequestMessage(HttpMethod.Get, $"/d/{scenario.SharedDocumentId}");
        navigation.Headers.TryAddWithoutValidation("Accept", "text/html,*/*;q=0.8");
        var page = await staff.SendAsync(navigation);
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "text/html"), (page.StatusCode, page.Content.Headers.ContentType?.MediaType));
        Assert.False(page.Headers.Contains("X-Accel-Redirect"));
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("This action cannot be recorded right now, so it was not carried out. Try again shortly.", html);
        Assert.Contains("<a href=\"\" data-testid=\"plain-page-link\">Try again</a>", html); // the same link again
        // Any page a person loads whose audit row cannot be written says so in words too (a refused admin page here).
        using var pageLoad = new HttpRequestMessage(HttpMethod.Get, "/admin/users");
        pageLoad.Headers.TryAddWithoutValidation("Accept", "text/html,*/*;q=0.8");
        var refused = await staff.SendAsync(pageLoad);
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "text/html"), (refused.StatusCode, refused.Content.Headers.ContentType?.MediaType));
        Assert.Contains("cannot be recorded right now", await refused.Content.ReadAsStringAsync());
        Assert.Equal(before, (await host.AuditEventsAsync()).Count);
    }
}
