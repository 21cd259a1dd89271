using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Portal.App.Documents;
using Portal.App.Documents.Storage;
using Portal.Data.Audit;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.EndToEnd;

/// <summary>
/// Storage:Kind=S3 on a real S3 API (Ceph radosgw) behind the production nginx config: the app authorises and
/// records, nginx fetches the object from a short-lived presigned URL and sends it; the browser never sees the bucket.
/// A relay in front of radosgw acts out what radosgw does not do itself (redirects, a slow answer).
/// </summary>
public sealed class S3DeliveryTests : IAsyncLifetime
{
    private TestBucket bucket = null!;
    private S3Relay relay = null!;
    private NginxStack stack = null!;
    private Scenario scenario => stack.Scenario;

    public async Task InitializeAsync()
    {
        if ((TestEnvironment.S3Endpoint is null || TestEnvironment.NginxPath is null) && !TestEnvironment.IsCi) return; // skipped: see S3Fact
        bucket = await TestBucket.CreateAsync();
        relay = await S3Relay.StartAsync(TestBucket.Endpoint);
        // Small parts, so a 12 MiB upload already goes up in three parts; a small limit to test refusals.
        var settings = bucket.Settings(relay.Address.ToString().TrimEnd('/'), partSizeMiB: 5);
        settings["Uploads:MaxFileBytes"] = (24 * 1024 * 1024).ToString();
        stack = await NginxStack.StartAsync(settings, sharedSize: 1024 * 1024 + 7);
    }

    public async Task DisposeAsync()
    {
        if (stack is not null) await stack.DisposeAsync();
        if (relay is not null) await relay.DisposeAsync();
        if (bucket is not null) await bucket.DisposeAsync();
    }

    private async Task<HttpClient> UploaderAsync()
    {
        var admin = await stack.SignedInClientAsync("admin");
        await SignIn.WithFormTokenAsync(admin);
        return admin;
    }

    private static MultipartFormDataContent Files(params (string Name, byte[] Bytes)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, bytes) in files)
        {
            var part = new ByteArrayContent(bytes);
            part.Headers.TryAddWithoutValidation("Content-Disposition", $"form-data; name=\"files\"; filename*=UTF-8''{Uri.EscapeDataString(name)}");
            form.Add(part);
        }
        return form;
    }

    private async Task<List<UploadedDocument>> UploadAsync(HttpClient client, params (string Name, byte[] Bytes)[] files)
    {
        var response = await client.PostAsync($"/folders/{scenario.SharedFolderId}/documents", Files(files));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<List<UploadedDocument>>(response.Content))!;
    }

    private async Task<AuditEvent> LastDownloadAsync() =>
        (await stack.App.AuditEventsAsync()).Last(e => e.Action == AuditAction.DocumentDownloaded);

    [S3Fact]
    public async Task Uploaded_through_nginx_to_the_bucket_then_downloaded_through_nginx_the_bytes_are_identical()
    {
        using var admin = await UploaderAsync();
        var large = RandomNumberGenerator.GetBytes(12 * 1024 * 1024 + 3); // three parts of 5 MiB
        var small = Encoding.UTF8.GetBytes("Minutes of the meeting, 3 March.");

        var uploaded = await UploadAsync(admin, ("Contract 2027.pdf", large), ("minutes.txt", small));

        foreach (var (doc, bytes) in uploaded.Zip([large, small]))
        {
            using var response = await admin.GetAsync($"/d/{doc.Id}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await response.Content.ReadAsByteArrayAsync();
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), Convert.ToHexStringLower(SHA256.HashData(body)));
            // The app's headers, not the bucket's (which would say application/octet-stream and nothing about the name).
            Assert.Equal(doc.ContentType, response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(doc.Name, response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName);
            Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
            Assert.Contains("no-store", response.Headers.CacheControl?.ToString());
            foreach (var once in new[] { "Content-Type", "Content-Disposition", "Content-Length" })
                Assert.Single(response.Content.Headers.NonValidated[once]);
            Assert.Single(response.Headers.NonValidated["Cache-Control"]);

            var e = await LastDownloadAsync();
            Assert.Equal((AuditOutcome.Allowed, doc.Id), (e.Outcome, e.DocumentId));
            var receipt = await stack.ReceiptAsync(e.Id);
            Assert.Equal((200, true, (long)bytes.Length), (receipt.Status, receipt.Completed, receipt.BytesSent));
        }

        // Stored under the content hash, once: the same bytes again add a document, not an object.
        await UploadAsync(admin, ("Contract 2027 (copy).pdf", large));
        var keys = await bucket.KeysAsync();
        var largeKey = DocumentStorage.KeyFor(Convert.ToHexStringLower(SHA256.HashData(large)));
        Assert.Single(keys, k => k == largeKey);
        Assert.Contains(DocumentStorage.KeyFor(Convert.ToHexStringLower(SHA256.HashData(small))), keys);
        Assert.DoesNotContain(keys, k => k.Contains(".incoming"));
        Assert.Equal(0, await bucket.PendingUploadsAsync());
        Assert.Equal(4, keys.Count); // the scenario's two documents and the two uploaded
    }

    [S3Fact]
    public async Task Emptying_the_bin_removes_the_objects_from_the_bucket_and_records_it()
    {
        using var admin = await UploaderAsync();
        var content = RandomNumberGenerator.GetBytes(64 * 1024);
        var key = DocumentStorage.KeyFor(Convert.ToHexStringLower(SHA256.HashData(content)));
        var doc = Assert.Single(await UploadAsync(admin, ("to be purged.bin", content)));
        Assert.Contains(key, await bucket.KeysAsync());

        var deleted = await admin.DeleteAsync($"/documents/{doc.Id}");
        Assert.True(deleted.IsSuccessStatusCode, await deleted.Content.ReadAsStringAsync());
        Assert.Contains(key, await bucket.KeysAsync()); // in the bin the bytes stay: it can be restored

        var emptied = await admin.PostAsync("/bin/empty", null);
        Assert.True(emptied.IsSuccessStatusCode, await emptied.Content.ReadAsStringAsync());
        Assert.DoesNotContain(key, await bucket.KeysAsync());
        var record = Assert.Single(await stack.App.AuditEventsAsync(), e => e.Action == AuditAction.BinEmptied);
        Assert.Equal(AuditOutcome.Allowed, record.Outcome);
        Assert.Equal("The whole bin", record.Reason);
    }

    [S3Fact]
    public async Task A_failed_upload_leaves_nothing_in_the_bucket()
    {
        using var admin = await UploaderAsync();
        var before = await bucket.KeysAsync();

        // 30 MiB against a 24 MiB limit: several parts are already in the bucket when the limit is hit.
        var response = await admin.PostAsync($"/folders/{scenario.SharedFolderId}/documents",
            Files(("too big.bin", RandomNumberGenerator.GetBytes(30 * 1024 * 1024))));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(before, await bucket.KeysAsync());
        Assert.Equal(0, await bucket.PendingUploadsAsync());
    }

    [S3Fact]
    public async Task Single_and_suffix_ranges_answer_206_with_the_right_bytes_and_receipts()
    {
        using var staff = await stack.SignedInClientAsync("staff");
        var expected = scenario.SharedContent;

        foreach (var (range, bytes) in new[] { ("bytes=1000-1999", expected[1000..2000]), ("bytes=-500", expected[^500..]) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/d/{scenario.SharedDocumentId}");
            request.Headers.TryAddWithoutValidation("Range", range);
            using var response = await staff.SendAsync(request);

            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
            Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
            Assert.Equal(expected.Length, response.Content.Headers.ContentRange?.Length);
            var e = await LastDownloadAsync();
            Assert.Equal(range, e.Range);
            var receipt = await stack.ReceiptAsync(e.Id);
            Assert.Equal((206, true), (receipt.Status, receipt.Completed));
        }
    }

    [S3Fact]
    public async Task Nothing_the_browser_receives_names_the_bucket_or_carries_the_presigned_url()
    {
        using var staff = await stack.SignedInClientAsync("staff");
        var requests = new[]
        {
            new HttpRequestMessage(HttpMethod.Get, $"/d/{scenario.SharedDocumentId}"),
            new HttpRequestMessage(HttpMethod.Head, $"/d/{scenario.SharedDocumentId}"),
            new HttpRequestMessage(HttpMethod.Get, $"/v/{scenario.SharedDocumentId}"),
        };
        requests[0].Headers.TryAddWithoutValidation("Range", "bytes=0-99");
        var secrets = new[] { "X-Amz-", "x-amz-", bucket.Name, TestEnvironment.S3AccessKey, relay.Address.Authority, new Uri(TestBucket.Endpoint).Authority, "_protected_s3" };

        foreach (var request in requests)
        {
            using var response = await staff.SendAsync(request);
            Assert.True(response.IsSuccessStatusCode, $"{request.Method} answered {(int)response.StatusCode}");
            var headers = string.Join("\n", response.Headers.Concat(response.Content.Headers).Select(h => $"{h.Key}: {string.Join(", ", h.Value)}"));
            var body = Encoding.Latin1.GetString(await response.Content.ReadAsByteArrayAsync());
            foreach (var secret in secrets)
            {
                Assert.DoesNotContain(secret, headers, StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain(secret, body, StringComparison.OrdinalIgnoreCase);
            }
            Assert.DoesNotContain(response.Headers, h => h.Key.StartsWith("X-Portal", StringComparison.OrdinalIgnoreCase) || h.Key.StartsWith("X-Accel", StringComparison.OrdinalIgnoreCase));
            Assert.Null(response.Headers.Location);
        }
        Assert.Equal(2, relay.PresignedGets); // the HEAD went as a HEAD; both GETs reached the bucket through nginx

        // The internal location cannot be asked directly, with or without a session.
        var key = DocumentStorage.KeyFor(scenario.SharedContentHash);
        Assert.Equal(HttpStatusCode.NotFound, (await staff.GetAsync($"/_protected_s3/{key}")).StatusCode);
        using var smuggled = new HttpRequestMessage(HttpMethod.Get, $"/_protected_s3/{key}");
        smuggled.Headers.TryAddWithoutValidation("X-Portal-S3-Url", $"{TestBucket.Endpoint}/{bucket.Name}/{key}");
        Assert.Equal(HttpStatusCode.NotFound, (await staff.SendAsync(smuggled)).StatusCode);
        Assert.Equal(2, relay.PresignedGets);
    }

    /// <summary>Issue 25: the view's sandbox survives the trip through the bucket (saved before proxy_pass) and a followed redirect.</summary>
    [S3Fact]
    public async Task A_view_from_the_bucket_carries_the_sandboxing_policy_once_even_after_a_redirect_and_a_download_none()
    {
        using var staff = await stack.SignedInClientAsync("staff");
        var image = await TestDocuments.AddAsync(stack.App.Services, scenario.SharedFolderId, "photo.png", 5000, "image/png", seed: 7);

        foreach (var redirect in new[] { false, true })
        {
            relay.RedirectFirstGet = redirect;
            using var view = await staff.GetAsync($"/v/{image.Id}");
            Assert.Equal(HttpStatusCode.OK, view.StatusCode);
            Assert.Equal(Portal.App.Downloads.DownloadEndpoints.SandboxedViewPolicy, Assert.Single(view.Headers.GetValues("Content-Security-Policy")));
            Assert.Equal("nosniff", Assert.Single(view.Headers.GetValues("X-Content-Type-Options")));
            Assert.Equal(TestDocuments.ExpectedBytes(image.Size, 7), await view.Content.ReadAsByteArrayAsync());
        }
        relay.RedirectFirstGet = false;
        using var download = await staff.GetAsync($"/d/{image.Id}");
        Assert.False(download.Headers.Contains("Content-Security-Policy"));
        Assert.Equal(TestDocuments.ExpectedBytes(image.Size, 7), await download.Content.ReadAsByteArrayAsync());
    }

    [S3Fact]
    public async Task A_redirect_from_the_storage_is_followed_by_nginx_and_never_reaches_the_browser()
    {
        relay.RedirectFirstGet = true;
        using var staff = await stack.SignedInClientAsync("staff");

        using var response = await staff.GetAsync($"/d/{scenario.SharedDocumentId}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.Equal(scenario.SharedContentHash, Convert.ToHexStringLower(SHA256.HashData(await response.Content.ReadAsByteArrayAsync())));
        // The app's headers survive the followed redirect, once each.
        Assert.Equal("application/pdf", Assert.Single(response.Content.Headers.NonValidated["Content-Type"]));
        Assert.Equal(Scenario.SharedDocumentName, response.Content.Headers.ContentDisposition?.FileName);
        Assert.Single(response.Content.Headers.NonValidated["Content-Disposition"]);
        Assert.Equal("private, no-store", Assert.Single(response.Headers.NonValidated["Cache-Control"]));
        Assert.DoesNotContain(response.Headers.Concat(response.Content.Headers), h => h.Key.StartsWith("x-amz", StringComparison.OrdinalIgnoreCase));
        Assert.Equal((1, 2), (relay.Redirects, relay.PresignedGets)); // answered 307 once, then served the followed request
        var receipt = await stack.ReceiptAsync((await LastDownloadAsync()).Id);
        Assert.Equal((200, true, (long)scenario.SharedContent.Length), (receipt.Status, receipt.Completed, receipt.BytesSent));
    }

    [S3Fact]
    public async Task An_expired_presigned_url_is_refused_by_the_storage()
    {
        var store = stack.App.Services.GetRequiredService<S3DocumentStore>();
        // Long enough that the first request is surely in time on a busy machine, short enough to wait out.
        var url = store.PresignedUrl(scenario.SharedContentHash, head: false, lifetime: TimeSpan.FromSeconds(4));
        using var direct = new HttpClient();

        Assert.Equal(HttpStatusCode.OK, (await direct.GetAsync(url)).StatusCode); // valid while fresh
        await Task.Delay(TimeSpan.FromSeconds(5.5));
        var expired = await direct.GetAsync(url);

        Assert.Equal(HttpStatusCode.Forbidden, expired.StatusCode);
        Assert.Contains("AccessDenied", await expired.Content.ReadAsStringAsync());
    }

    [S3Fact]
    public async Task When_the_presigned_url_has_expired_before_nginx_uses_it_the_browser_gets_a_502_and_the_receipt_says_so()
    {
        // PresignSeconds is 60 here; the relay holds the request past it would take too long, so use a fresh stack.
        await stack.DisposeAsync();
        var settings = bucket.Settings(relay.Address.ToString().TrimEnd('/'));
        settings["Storage:S3:PresignSeconds"] = "1";
        stack = await NginxStack.StartAsync(settings);
        relay.DelayGets = TimeSpan.FromSeconds(2.5);
        using var staff = await stack.SignedInClientAsync("staff");

        using var response = await staff.GetAsync($"/d/{scenario.SharedDocumentId}");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("AccessDenied", body); // nginx's own page, not the bucket's answer
        Assert.DoesNotContain(bucket.Name, body);
        var e = await LastDownloadAsync();
        Assert.Equal(AuditOutcome.Allowed, e.Outcome); // authorised and recorded; the receipt tells it failed
        var receipt = await stack.ReceiptAsync(e.Id);
        Assert.Equal(502, receipt.Status);
    }

    [S3Fact]
    public async Task When_the_bucket_cannot_be_reached_the_presigned_url_reaches_no_log()
    {
        using var staff = await stack.SignedInClientAsync("staff");
        await relay.DisposeAsync(); // the storage endpoint nginx was told about now refuses connections
        relay = null!;

        using var response = await staff.GetAsync($"/d/{scenario.SharedDocumentId}");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var receipt = await stack.ReceiptAsync((await LastDownloadAsync()).Id);
        Assert.Equal(502, receipt.Status);
        // The operators still learn why, from the app's log, without the URL's query (its signature is a key).
        string? said = null;
        for (var i = 0; i < 100 && said is null; i++, await Task.Delay(50))
            said = stack.App.Logs.Lines.FirstOrDefault(l => l.Contains("nginx: ") && l.Contains("connect() failed"));
        Assert.True(said is not null, $"no nginx error in the app's log:\n{stack.App.Logs}");
        Assert.Contains($"{bucket.Name}/{DocumentStorage.KeyFor(scenario.SharedContentHash)}?…", said);
        var nginxLogs = stack.Nginx.Output + File.ReadAllText(Path.Combine(stack.Nginx.RunFolder, "error.log"));
        foreach (var log in new[] { stack.App.Logs.ToString(), nginxLogs })
        {
            Assert.DoesNotContain("X-Amz-", log, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(TestEnvironment.S3AccessKey, log);
        }
    }

    [S3Fact]
    public async Task Check_storage_and_readiness_work_on_the_bucket()
    {
        // Readiness is for monitoring, straight at the app: the shipped nginx does not pass it on (issue #25).
        using var throughNginx = new HttpClient { BaseAddress = stack.Nginx.Address };
        Assert.Equal(HttpStatusCode.NotFound, (await throughNginx.GetAsync("/health/ready")).StatusCode);
        using var client = new HttpClient { BaseAddress = stack.App.KestrelAddress };
        var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("\"storage\":{\"status\":\"Healthy\"", await ready.Content.ReadAsStringAsync());

        var output = new StringWriter();
        Assert.Equal(0, await Portal.App.Hosting.StorageCheck.RunAsync(stack.App.Services, output));
        Assert.Contains($"Checked 2 stored files for 2 documents in S3 bucket '{bucket.Name}'", output.ToString());

        await bucket.Client.DeleteObjectAsync(bucket.Name, DocumentStorage.KeyFor(scenario.SharedContentHash));
        output = new StringWriter();
        Assert.Equal(2, await Portal.App.Hosting.StorageCheck.RunAsync(stack.App.Services, output));
        Assert.Contains($"MISSING {scenario.SharedContentHash}: \"{Scenario.SharedDocumentName}\"", output.ToString());
    }

    [S3Fact]
    public async Task Without_nginx_the_app_streams_the_object_from_the_bucket_and_writes_the_receipt_itself()
    {
        await using var database = new SqliteTestDatabase();
        await using var direct = new PortalHost(database, Portal.App.Hosting.DeliveryMode.Direct, settings: bucket.Settings());
        var world = await Scenario.CreateAsync(direct.Services, 300 * 1024);
        var client = direct.CreateBrowserLikeClient();
        await SignIn.AsDemoUserAsync(client, "staff");

        var response = await client.GetAsync($"/d/{world.SharedDocumentId}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(world.SharedContent, await response.Content.ReadAsByteArrayAsync());
        var e = (await direct.AuditEventsAsync()).Last(a => a.Action == AuditAction.DocumentDownloaded);
        var receipt = await direct.ReceiptAsync(e.Id);
        Assert.Equal((200, true, (long)world.SharedContent.Length), (receipt.Status, receipt.Completed, receipt.BytesSent));
    }

    [S3Fact]
    public async Task Without_nginx_ranges_and_if_range_are_answered_from_the_bucket_and_recorded()
    {
        await using var database = new SqliteTestDatabase();
        await using var direct = new PortalHost(database, Portal.App.Hosting.DeliveryMode.Direct, settings: bucket.Settings());
        var world = await Scenario.CreateAsync(direct.Services, 300 * 1024);
        var content = world.SharedContent;
        var client = direct.CreateBrowserLikeClient();
        await SignIn.AsDemoUserAsync(client, "staff");
        var url = $"/d/{world.SharedDocumentId}";

        async Task<HttpResponseMessage> GetAsync(System.Net.Http.Headers.RangeHeaderValue range, string? ifRange = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Range = range;
            if (ifRange is not null) request.Headers.IfRange = new System.Net.Http.Headers.RangeConditionHeaderValue(ifRange);
            return await client.SendAsync(request);
        }

        var middle = await GetAsync(new(100_000, 199_999));
        Assert.Equal(HttpStatusCode.PartialContent, middle.StatusCode);
        Assert.Equal($"bytes 100000-199999/{content.Length}", middle.Content.Headers.ContentRange?.ToString());
        Assert.Equal(content[100_000..200_000], await middle.Content.ReadAsByteArrayAsync());

        var suffix = await GetAsync(new(null, 1000));
        Assert.Equal(HttpStatusCode.PartialContent, suffix.StatusCode);
        Assert.Equal(content[^1000..], await suffix.Content.ReadAsByteArrayAsync());

        var etag = middle.Headers.ETag!.Tag;
        var sameVersion = await GetAsync(new(0, 9), etag);
        Assert.Equal(HttpStatusCode.PartialContent, sameVersion.StatusCode);
        Assert.Equal(content[..10], await sameVersion.Content.ReadAsByteArrayAsync());
        var otherVersion = await GetAsync(new(0, 9), "\"another-version\"");
        Assert.Equal(HttpStatusCode.OK, otherVersion.StatusCode);
        Assert.Equal(content, await otherVersion.Content.ReadAsByteArrayAsync());

        var downloads = (await direct.AuditEventsAsync()).Where(a => a.Action == AuditAction.DocumentDownloaded).ToList();
        Assert.Equal(4, downloads.Count);
        var receipt = await direct.ReceiptAsync(downloads[0].Id);
        Assert.Equal((206, true, 100_000L, "bytes=100000-199999"), (receipt.Status, receipt.Completed, receipt.BytesSent, receipt.Range));
    }

    [S3Fact]
    public async Task The_rate_limit_and_an_aborted_transfer_work_as_for_local_files()
    {
        await stack.DisposeAsync();
        var settings = bucket.Settings(relay.Address.ToString().TrimEnd('/'));
        settings["Delivery:RateLimits:Default"] = (256 * 1024).ToString();
        stack = await NginxStack.StartAsync(settings, sharedSize: 1024 * 1024);
        using var staff = await stack.SignedInClientAsync("staff");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(scenario.SharedContent, await staff.GetByteArrayAsync($"/d/{scenario.SharedDocumentId}"));
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(3.5), $"1 MiB at 256 KiB/s took {clock.Elapsed.TotalSeconds:0.00} s");

        // A client that hangs up at 300 KiB: the receipt says the transfer did not complete.
        using var hangsUp = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0, CookieContainer = new() }) { BaseAddress = stack.Nginx.Address };
        await SignIn.AsDemoUserAsync(hangsUp, "staff");
        using (var response = await hangsUp.GetAsync($"/d/{scenario.SharedDocumentId}", HttpCompletionOption.ResponseHeadersRead))
        {
            await using var stream = await response.Content.ReadAsStreamAsync();
            await stream.ReadAtLeastAsync(new byte[300 * 1024], 300 * 1024);
        }
        var receipt = await stack.ReceiptAsync((await LastDownloadAsync()).Id);
        Assert.False(receipt.Completed);
        Assert.InRange(receipt.BytesSent, 300 * 1024, scenario.SharedContent.Length - 1);
    }
}
