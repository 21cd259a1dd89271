using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Portal.Data.Audit;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.EndToEnd;

/// <summary>
/// The production nginx config in front of the app in XAccel mode: the app authorises and records, nginx sends
/// the bytes from the internal location and reports each transfer back; that location cannot be reached from outside.
/// </summary>
public sealed class NginxDeliveryTests : IAsyncLifetime
{
    private NginxStack stack = null!;
    private HttpClient staff = null!;
    private Scenario scenario => stack.Scenario;

    public async Task InitializeAsync()
    {
        if (TestEnvironment.NginxPath is null && !TestEnvironment.IsCi) return; // skipped: see NginxFact
        stack = await NginxStack.StartAsync(sharedSize: 1024 * 1024 + 7);
        staff = await stack.SignedInClientAsync("staff");
    }

    public async Task DisposeAsync()
    {
        staff?.Dispose();
        if (stack is not null) await stack.DisposeAsync();
    }

    private async Task<List<AuditEvent>> EventsAsync(AuditAction action) =>
        (await stack.App.AuditEventsAsync()).Where(a => a.Action == action).ToList();

    [NginxFact]
    public async Task The_production_config_passes_nginx_t()
    {
        var (exitCode, output) = await stack.Nginx.TestConfigAsync();
        Assert.True(exitCode == 0, output);
        Assert.Contains("syntax is ok", output);
    }

    [NginxFact]
    public async Task A_page_through_nginx_carries_each_security_header_once_and_the_app_s_content_security_policy()
    {
        var page = await staff.GetAsync($"/folders/{scenario.SharedFolderId}");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        // Once each: nginx sets these three and hides the app's copies ("DENY, DENY" is read as invalid by some browsers).
        Assert.Equal("DENY", Assert.Single(page.Headers.GetValues("X-Frame-Options")));
        Assert.Equal("nosniff", Assert.Single(page.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("same-origin", Assert.Single(page.Headers.GetValues("Referrer-Policy")));
        Assert.Equal(Portal.App.Hosting.SecurityHeaders.ContentSecurityPolicy, Assert.Single(page.Headers.GetValues("Content-Security-Policy")));
    }

    [NginxFact]
    public async Task A_download_through_nginx_has_exactly_the_stored_bytes_is_audited_and_gets_a_completed_receipt()
    {
        var response = await staff.GetAsync($"/d/{scenario.SharedDocumentId}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(scenario.SharedContentHash, Convert.ToHexStringLower(SHA256.HashData(body)));
        Assert.Equal(Scenario.SharedDocumentName, response.Content.Headers.ContentDisposition?.FileName);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("application/pdf", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        foreach (var internalHeader in new[] { "X-Accel-Redirect", "X-Accel-Limit-Rate", "X-Accel-Buffering", "X-Portal-Audit" })
            Assert.False(response.Headers.Contains(internalHeader), $"{internalHeader} must not reach the client");

        var e = Assert.Single(await EventsAsync(AuditAction.DocumentDownloaded));
        Assert.Equal((AuditOutcome.Allowed, scenario.SharedDocumentId), (e.Outcome, e.DocumentId));
        Assert.Equal("127.0.0.1", e.ClientIp);

        var receipt = await stack.ReceiptAsync(e.Id);
        Assert.Equal((200, true, (long)body.Length), (receipt.Status, receipt.Completed, receipt.BytesSent));
    }

    [NginxTheory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1024 * 1024)]
    [InlineData(100 * 1024 * 1024)]
    public async Task Files_of_every_size_arrive_byte_for_byte(long size)
    {
        var doc = await TestDocuments.AddAsync(stack.App.Services, scenario.SharedFolderId, $"file-{size}.bin", size, seed: (int)(size % 1000) + 3);

        using var response = await staff.GetAsync($"/d/{doc.Id}", HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(size, response.Content.Headers.ContentLength);
        Assert.Equal(doc.Sha256, await TestDocuments.Sha256Async(await response.Content.ReadAsStreamAsync()));
    }

    [NginxFact]
    public async Task Single_suffix_and_multiple_ranges_answer_206_with_the_right_bytes()
    {
        var expected = scenario.SharedContent;

        var single = await GetRangeAsync("bytes=1000-1999");
        Assert.Equal(HttpStatusCode.PartialContent, single.StatusCode);
        Assert.Equal(expected[1000..2000], await single.Content.ReadAsByteArrayAsync());

        var suffix = await GetRangeAsync("bytes=-500");
        Assert.Equal(HttpStatusCode.PartialContent, suffix.StatusCode);
        Assert.Equal(expected[^500..], await suffix.Content.ReadAsByteArrayAsync());

        var multiple = await GetRangeAsync("bytes=0-9,5000-5099");
        Assert.Equal(HttpStatusCode.PartialContent, multiple.StatusCode);
        Assert.Equal("multipart/byteranges", multiple.Content.Headers.ContentType?.MediaType);
        var boundary = multiple.Content.Headers.ContentType!.Parameters.Single(p => p.Name == "boundary").Value!.Trim('"');
        var reader = new MultipartReader(boundary, await multiple.Content.ReadAsStreamAsync());
        var parts = new List<(string Range, byte[] Bytes)>();
        while (await reader.ReadNextSectionAsync() is { } section)
        {
            using var copy = new MemoryStream();
            await section.Body.CopyToAsync(copy);
            parts.Add((section.Headers!["Content-Range"].ToString(), copy.ToArray()));
        }
        Assert.Equal($"bytes 0-9/{expected.Length}", parts[0].Range);
        Assert.Equal(expected[..10], parts[0].Bytes);
        Assert.Equal($"bytes 5000-5099/{expected.Length}", parts[1].Range);
        Assert.Equal(expected[5000..5100], parts[1].Bytes);

        // Each partial answer was authorised and recorded, with the range asked for.
        var ranges = (await EventsAsync(AuditAction.DocumentDownloaded)).Select(e => e.Range).ToList();
        Assert.Equal(["bytes=1000-1999", "bytes=-500", "bytes=0-9,5000-5099"], ranges);
    }

    private Task<HttpResponseMessage> GetRangeAsync(string range)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/d/{scenario.SharedDocumentId}");
        request.Headers.TryAddWithoutValidation("Range", range);
        return staff.SendAsync(request);
    }

    [NginxFact]
    public async Task If_none_match_with_the_etag_answers_304_and_is_still_recorded()
    {
        var first = await staff.GetAsync($"/d/{scenario.SharedDocumentId}");
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/d/{scenario.SharedDocumentId}");
        request.Headers.IfNoneMatch.Add(etag!);
        var second = await staff.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
        Assert.Empty(await second.Content.ReadAsByteArrayAsync());
        Assert.Equal(2, (await EventsAsync(AuditAction.DocumentDownloaded)).Count(e => e.Outcome == AuditOutcome.Allowed));
    }

    [NginxFact]
    public async Task Head_answers_the_headers_without_the_body_and_is_recorded()
    {
        var response = await staff.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/d/{scenario.SharedDocumentId}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(scenario.SharedContent.Length, response.Content.Headers.ContentLength);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        var e = Assert.Single(await EventsAsync(AuditAction.DocumentDownloaded));
        Assert.Equal((AuditOutcome.Allowed, "HEAD: headers only"), (e.Outcome, e.Reason));
    }

    [NginxFact]
    public async Task View_is_inline_only_for_types_safe_to_show()
    {
        var pdf = await staff.GetAsync($"/v/{scenario.SharedDocumentId}");
        Assert.Equal("inline", pdf.Content.Headers.ContentDisposition?.DispositionType);

        var html = await TestDocuments.AddAsync(stack.App.Services, scenario.SharedFolderId, "page.html", 100, "text/html");
        var svg = await TestDocuments.AddAsync(stack.App.Services, scenario.SharedFolderId, "logo.svg", 100, "image/svg+xml", seed: 9);
        foreach (var doc in new[] { html, svg })
        {
            var response = await staff.GetAsync($"/v/{doc.Id}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        }
        Assert.Equal(3, (await EventsAsync(AuditAction.DocumentViewed)).Count(e => e.Outcome == AuditOutcome.Allowed));
    }

    /// <summary>
    /// Issue 25: nginx drops the app's Content-Security-Policy after X-Accel-Redirect; the internal location copies it
    /// back, so a view reaches the browser sandboxed, once, with nosniff still there; a download gets no policy.
    /// </summary>
    [NginxFact]
    public async Task A_view_through_nginx_carries_the_sandboxing_policy_once_and_a_download_is_as_before()
    {
        var image = await TestDocuments.AddAsync(stack.App.Services, scenario.SharedFolderId, "photo.png", 70_000, "image/png", seed: 5);
        var text = await TestDocuments.AddAsync(stack.App.Services, scenario.SharedFolderId, "notes.txt", 1000, "text/plain", seed: 6);
        foreach (var (doc, seed) in new[] { (image, 5), (text, 6) })
        {
            var view = await staff.GetAsync($"/v/{doc.Id}/{Uri.EscapeDataString(doc.Name)}");
            Assert.Equal(HttpStatusCode.OK, view.StatusCode);
            Assert.Equal("inline", view.Content.Headers.ContentDisposition?.DispositionType);
            Assert.Equal(Portal.App.Downloads.DownloadEndpoints.SandboxedViewPolicy, Assert.Single(view.Headers.GetValues("Content-Security-Policy")));
            Assert.Equal("nosniff", Assert.Single(view.Headers.GetValues("X-Content-Type-Options")));
            Assert.Equal(TestDocuments.ExpectedBytes(doc.Size, seed), await view.Content.ReadAsByteArrayAsync());
        }
        var pdf = await staff.GetAsync($"/v/{scenario.SharedDocumentId}");
        Assert.Equal(Portal.App.Downloads.DownloadEndpoints.PdfViewPolicy, Assert.Single(pdf.Headers.GetValues("Content-Security-Policy")));

        var download = await staff.GetAsync($"/d/{image.Id}");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.False(download.Headers.Contains("Content-Security-Policy"));
        Assert.Equal("nosniff", Assert.Single(download.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("attachment", download.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("private, no-store", Assert.Single(download.Headers.NonValidated["Cache-Control"]));
        Assert.Equal(TestDocuments.ExpectedBytes(image.Size, 5), await download.Content.ReadAsByteArrayAsync());
    }

    /// <summary>Issue 25: another site's navigation gets the question, through nginx too, never framed, nothing recorded.</summary>
    [NginxFact]
    public async Task A_cross_site_navigation_through_nginx_gets_the_question_unframeable_and_records_nothing()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/d/{scenario.SharedDocumentId}");
        request.Headers.TryAddWithoutValidation("Accept", "text/html,*/*;q=0.8");
        request.Headers.TryAddWithoutValidation("Sec-Fetch-Site", "cross-site");
        var before = (await stack.App.AuditEventsAsync()).Count(e => e.Action == AuditAction.DocumentDownloaded);

        var page = await staff.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Equal("DENY", Assert.Single(page.Headers.GetValues("X-Frame-Options")));
        Assert.Equal("nosniff", Assert.Single(page.Headers.GetValues("X-Content-Type-Options")));
        Assert.Contains("frame-ancestors 'none'", Assert.Single(page.Headers.GetValues("Content-Security-Policy")));
        Assert.Contains(Scenario.SharedDocumentName, System.Net.WebUtility.HtmlDecode(await page.Content.ReadAsStringAsync()));
        Assert.Equal(before, (await stack.App.AuditEventsAsync()).Count(e => e.Action == AuditAction.DocumentDownloaded));
    }

    [NginxFact]
    public async Task Forbidden_and_deleted_documents_serve_nothing_and_are_recorded_as_denied()
    {
        var deleted = await TestDocuments.AddAsync(stack.App.Services, scenario.SharedFolderId, "gone.txt", 5000, deleted: true);

        var forbidden = await staff.GetAsync($"/d/{scenario.RestrictedDocumentId}");
        var gone = await staff.GetAsync($"/d/{deleted.Id}");

        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        foreach (var response in new[] { forbidden, gone })
        {
            Assert.Null(response.Content.Headers.ContentDisposition);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        var denied = (await EventsAsync(AuditAction.DocumentDownloaded)).Where(e => e.Outcome == AuditOutcome.Denied).ToList();
        Assert.Equal([scenario.RestrictedDocumentId, deleted.Id], denied.Select(e => e.DocumentId!.Value));
        Assert.Equal(["No Download right on the folder", "No such document"], denied.Select(e => e.Reason));
    }

    [NginxFact]
    public async Task Every_answer_with_file_bytes_has_its_allowed_audit_event_and_receipt()
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++) statuses.Add((await staff.GetAsync($"/d/{scenario.SharedDocumentId}")).StatusCode);
        for (var i = 0; i < 3; i++) statuses.Add((await GetRangeAsync($"bytes={i * 10}-{i * 10 + 9}")).StatusCode);
        statuses.Add((await staff.GetAsync($"/d/{scenario.RestrictedDocumentId}")).StatusCode);

        var withBytes = statuses.Count(s => s is HttpStatusCode.OK or HttpStatusCode.PartialContent);
        var allowed = (await EventsAsync(AuditAction.DocumentDownloaded)).Where(e => e.Outcome == AuditOutcome.Allowed).ToList();
        Assert.Equal(8, withBytes);
        Assert.Equal(withBytes, allowed.Count);
        foreach (var e in allowed) Assert.True((await stack.ReceiptAsync(e.Id)).Status is 200 or 206);
    }

    [NginxTheory]
    [InlineData("evil\r\nSet-Cookie: pwned=1\r\nX-Injected: yes.txt")]
    [InlineData("evil\nLocation: https://attacker.example/.txt")]
    [InlineData("nul\0\r\n\r\n<html>body</html>.txt")]
    [InlineData("quote\"; filename=\"other.exe")]
    public async Task A_hostile_name_cannot_split_or_add_a_header(string name)
    {
        var doc = await TestDocuments.AddAsync(stack.App.Services, scenario.SharedFolderId, name, 1000, "text/plain");

        var response = await staff.GetAsync($"/d/{doc.Id}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(doc.Sha256, Convert.ToHexStringLower(SHA256.HashData(await response.Content.ReadAsByteArrayAsync())));
        Assert.Equal("text/plain; charset=utf-8", response.Content.Headers.ContentType?.ToString()); // the app's, kept by nginx
        Assert.False(response.Headers.Contains("X-Injected"));
        Assert.Null(response.Headers.Location);
        Assert.DoesNotContain(response.Headers.SelectMany(h => h.Value), v => v.Contains("pwned"));
        var disposition = response.Content.Headers.ContentDisposition!;
        Assert.Equal("attachment", disposition.DispositionType);
        Assert.Subset(new HashSet<string> { "filename", "filename*" }, disposition.Parameters.Select(p => p.Name).ToHashSet());
        Assert.DoesNotContain(disposition.ToString(), char.IsControl);
        // Control characters and path separators become '_'; the rest is the name as given (via filename* when needed).
        Assert.Equal(string.Concat(name.Select(c => char.IsControl(c) || c is '/' or '\\' ? '_' : c)), disposition.FileNameStar ?? disposition.FileName);
    }

    [NginxFact]
    public async Task A_client_cannot_forge_its_address_in_the_audit_log()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/d/{scenario.SharedDocumentId}");
        request.Headers.Add("X-Forwarded-For", "203.0.113.66");
        await staff.SendAsync(request);

        var e = Assert.Single(await EventsAsync(AuditAction.DocumentDownloaded));
        Assert.Equal("127.0.0.1", e.ClientIp); // nginx overwrites the header with the real peer address
    }

    [NginxTheory]
    [InlineData("/_protected/{key}")]
    [InlineData("/_protected/{dir}/")]
    [InlineData("/_protected/../_protected/{key}")]
    [InlineData("/x/..%2f_protected/{key}")]
    [InlineData("/%5fprotected/{key}")]
    [InlineData("/_protected%2f{key}")]
    [InlineData("/_protected/{dir}%2f{hash}")]
    [InlineData("/_protected/%2e%2e/{key}")]
    [InlineData("/_protected/%252e%252e/{key}")]
    [InlineData("/_protected/{key}%00")]
    [InlineData("/_protected/.incoming/")]
    [InlineData("/d/..%2f_protected/{key}")]
    [InlineData("/d/%2e%2e/_protected/{key}")]
    public async Task The_internal_location_cannot_be_reached_directly(string pathTemplate)
    {
        var hash = scenario.SharedContentHash;
        var path = pathTemplate.Replace("{key}", $"{hash[..2]}/{hash[2..4]}/{hash}")
            .Replace("{dir}", $"{hash[..2]}/{hash[2..4]}").Replace("{hash}", hash);
        using var anonymous = new HttpClient();

        var response = await anonymous.GetAsync(stack.Nginx.Address + path.TrimStart('/'));
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.NotEqual(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.True(body.Length < 64 * 1024, "no file bytes in the answer");
        Assert.Empty(await stack.App.WithDbAsync(db => db.DeliveryReceipts.ToListAsync()));
    }

    [NginxFact]
    public async Task A_plain_direct_request_to_the_internal_location_answers_404()
    {
        var hash = scenario.SharedContentHash;
        using var anonymous = new HttpClient { BaseAddress = stack.Nginx.Address };
        var response = await anonymous.GetAsync($"/_protected/{hash[..2]}/{hash[2..4]}/{hash}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
