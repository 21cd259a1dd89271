using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.App.Hosting;
using Portal.Data.Audit;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Documents;

/// <summary>POST /folders/{id}/documents through the real app: what is stored, what is refused, what is left behind.</summary>
public sealed class UploadTests : IAsyncLifetime
{
    private TestDatabase database = null!;
    private PortalHost host = null!;
    private Scenario scenario = null!;

    public async Task InitializeAsync()
    {
        database = new SqliteTestDatabase();
        host = new PortalHost(database, DeliveryMode.Direct, settings: new Dictionary<string, string?> { ["Uploads:MaxFileBytes"] = (1024 * 1024).ToString() });
        scenario = await Scenario.CreateAsync(host.Services);
    }

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        await database.DisposeAsync();
    }

    private async Task<HttpClient> SignedInAsync(string who)
    {
        var client = host.CreateBrowserLikeClient();
        await SignIn.AsDemoUserForFormsAsync(client, who);
        return client;
    }

    private static MultipartFormDataContent Files(params (string Name, byte[] Bytes)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, bytes) in files)
        {
            var part = new ByteArrayContent(bytes);
            // Set by hand so hostile names go out exactly as given (filename* carries the UTF-8 name).
            part.Headers.TryAddWithoutValidation("Content-Disposition",
                $"form-data; name=\"files\"; filename=\"upload\"; filename*=UTF-8''{Uri.EscapeDataString(name)}");
            form.Add(part);
        }
        return form;
    }

    private Task<HttpResponseMessage> UploadAsync(HttpClient client, HttpContent content) =>
        client.PostAsync($"/folders/{scenario.SharedFolderId}/documents", content);

    private string[] StoredFiles() => Directory.GetFiles(host.StorageRoot, "*", SearchOption.AllDirectories);
    private string[] Incoming() => Directory.Exists(Path.Combine(host.StorageRoot, ".incoming")) ? Directory.GetFiles(Path.Combine(host.StorageRoot, ".incoming")) : [];
    private Task<int> DocumentCountAsync() => host.WithDbAsync(db => db.Documents.CountAsync());

    /// <summary>
    /// On SQLite a new version's rows are written in turn with the audit writer. Met on the file lock, one of the two
    /// slept 150 ms: download p99 rose to 182-266 ms during an upload storm (docs/benchmarks.md).
    /// </summary>
    [Fact]
    public async Task A_new_version_is_written_in_turn_with_the_audit_writer()
    {
        var admin = await SignedInAsync("admin");
        var gate = host.Services.GetRequiredService<Portal.Data.Database.DatabaseWriteGate>();
        Task<int> VersionsAsync() => host.WithDbAsync(db => db.DocumentVersions.CountAsync(v => v.DocumentId == scenario.SharedDocumentId));
        var before = await VersionsAsync();

        var otherWriter = await gate.EnterAsync();
        var posted = admin.PostAsync($"/documents/{scenario.SharedDocumentId}/versions", Files(("Quarterly report v2.pdf", "second"u8.ToArray())));
        await Task.Delay(500);
        Assert.Equal(before, await VersionsAsync()); // not written while another writer has its turn
        otherWriter.Dispose();

        Assert.Equal(HttpStatusCode.OK, (await posted).StatusCode);
        Assert.True(await VersionsAsync() > before);
    }

    [Fact]
    public async Task Files_are_stored_listed_downloadable_and_audited()
    {
        var admin = await SignedInAsync("admin");
        var big = RandomNumberGenerator.GetBytes(900 * 1024);

        var response = await UploadAsync(admin, Files(("Budget 2027.xlsx", big), ("empty.txt", []), ("Résumé été.pdf", [1, 2, 3])));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var uploaded = json.RootElement.EnumerateArray().Select(e => (Name: e.GetProperty("name").GetString(), Size: e.GetProperty("size").GetInt64(),
            Type: e.GetProperty("contentType").GetString(), Id: e.GetProperty("id").GetGuid())).ToList();
        Assert.Equal([("Budget 2027.xlsx", 900L * 1024), ("empty.txt", 0L), ("Résumé été.pdf", 3L)], uploaded.Select(u => (u.Name, u.Size)));
        Assert.Equal("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", uploaded[0].Type);
        Assert.Equal(big, await admin.GetByteArrayAsync($"/d/{uploaded[0].Id}"));

        var events = (await host.AuditEventsAsync()).Where(e => e.Action == AuditAction.DocumentUploaded).ToList();
        Assert.Equal(["Budget 2027.xlsx", "empty.txt", "Résumé été.pdf"], events.Select(e => e.TargetName));
        Assert.All(events, e => Assert.Equal(AuditOutcome.Allowed, e.Outcome));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(big)), events[0].ContentHash);
        Assert.Empty(Incoming());
    }

    [Fact]
    public async Task Without_the_upload_right_nothing_is_stored_and_the_refusal_is_audited()
    {
        var staff = await SignedInAsync("staff"); // staff may browse and download in Shared, not upload
        var before = (StoredFiles().Length, await DocumentCountAsync());

        var response = await UploadAsync(staff, Files(("sneaky.txt", [1, 2, 3])));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(before, (StoredFiles().Length, await DocumentCountAsync()));
        var e = Assert.Single(await host.AuditEventsAsync(), a => a.Action == AuditAction.DocumentUploaded);
        Assert.Equal((AuditOutcome.Denied, "No Upload right on the folder"), (e.Outcome, e.Reason));
    }

    [Fact]
    public async Task A_file_over_the_limit_is_refused_with_a_clear_message_and_leaves_nothing()
    {
        var admin = await SignedInAsync("admin");
        var before = (StoredFiles().Length, await DocumentCountAsync());

        var response = await UploadAsync(admin, Files(("huge.bin", RandomNumberGenerator.GetBytes(2 * 1024 * 1024))));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.StartsWith("\"huge.bin\" is larger than the limit of 1 MiB.", problem.RootElement.GetProperty("detail").GetString());
        Assert.Equal(before, (StoredFiles().Length, await DocumentCountAsync()));
        Assert.Empty(Incoming());
    }

    [Theory]
    [InlineData("evil\r\nname.txt")]
    [InlineData("nul\0byte.txt")]
    [InlineData("tab\tname.txt")]
    [InlineData("..")]
    public async Task A_name_with_control_characters_is_refused_with_a_clear_message(string name)
    {
        var admin = await SignedInAsync("admin");
        var before = await DocumentCountAsync();

        var response = await UploadAsync(admin, Files((name, [1, 2, 3])));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Matches("control characters|cannot be named", await response.Content.ReadAsStringAsync());
        Assert.Equal(before, await DocumentCountAsync());
    }

    [Fact]
    public async Task The_same_content_twice_is_stored_once()
    {
        var admin = await SignedInAsync("admin");
        var bytes = RandomNumberGenerator.GetBytes(5000);
        var before = StoredFiles().Length;

        await UploadAsync(admin, Files(("first.bin", bytes)));
        await UploadAsync(admin, Files(("second copy.bin", bytes)));

        Assert.Equal(before + 1, StoredFiles().Length);
        Assert.Equal(2, await host.WithDbAsync(db => db.Documents.CountAsync(d => d.DisplayName == "first.bin" || d.DisplayName == "second copy.bin")));
    }

    [Fact]
    public async Task Without_the_antiforgery_token_nothing_is_stored()
    {
        var admin = await SignedInAsync("admin");
        admin.DefaultRequestHeaders.Remove("RequestVerificationToken");
        var before = await DocumentCountAsync();

        var response = await UploadAsync(admin, Files(("cross-site.txt", [1])));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(before, await DocumentCountAsync());
    }

    [Fact]
    public async Task An_interrupted_upload_leaves_nothing_behind()
    {
        // On a real socket: the in-memory test server would only notice the broken body at the client's timeout.
        await using var db = new SqliteTestDatabase();
        await using var app = new PortalHost(db, DeliveryMode.Direct);
        var address = app.StartOnKestrel();
        var folder = (await Scenario.CreateAsync(app.Services)).SharedFolderId;
        using var admin = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
        {
            BaseAddress = address, Timeout = TimeSpan.FromSeconds(30),
        };
        await SignIn.AsDemoUserForFormsAsync(admin, "admin");
        var stored = Directory.GetFiles(app.StorageRoot, "*", SearchOption.AllDirectories).Length;
        var form = new MultipartFormDataContent();
        var part = new StreamContent(new BreaksAfter(300 * 1024));
        part.Headers.TryAddWithoutValidation("Content-Disposition", "form-data; name=\"files\"; filename=\"cut.bin\"");
        form.Add(part);

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => admin.PostAsync($"/folders/{folder}/documents", form));

        // The server notices the dropped connection, deletes its temp file and stores no document.
        var incoming = Path.Combine(app.StorageRoot, ".incoming");
        for (var i = 0; i < 50 && Directory.Exists(incoming) && Directory.GetFiles(incoming).Length > 0; i++) await Task.Delay(100);
        Assert.Equal(stored, Directory.GetFiles(app.StorageRoot, "*", SearchOption.AllDirectories).Length);
        Assert.Equal(0, await app.WithDbAsync(d => d.Documents.CountAsync(x => x.DisplayName == "cut.bin")));
        Assert.DoesNotContain(await app.AuditEventsAsync(), e => e.Action == AuditAction.DocumentUploaded);
    }

    [Fact]
    public async Task A_folder_binned_while_a_file_uploads_into_it_takes_no_document_and_the_bin_still_empties()
    {
        // On a real socket, so the body really is still arriving when the folder goes to the bin.
        await using var db = new SqliteTestDatabase();
        await using var app = new PortalHost(db, DeliveryMode.Direct);
        var address = app.StartOnKestrel();
        var folder = (await Scenario.CreateAsync(app.Services)).SharedFolderId;
        using var admin = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
        {
            BaseAddress = address, Timeout = TimeSpan.FromSeconds(60),
        };
        await SignIn.AsDemoUserForFormsAsync(admin, "admin");

        var body = new PausesAfter(64 * 1024, total: 256 * 1024);
        var form = new MultipartFormDataContent();
        var part = new StreamContent(body);
        part.Headers.TryAddWithoutValidation("Content-Disposition", "form-data; name=\"files\"; filename=\"late.bin\"");
        form.Add(part);
        var upload = admin.PostAsync($"/folders/{folder}/documents", form);
        await body.Paused.WaitAsync(TimeSpan.FromSeconds(30));
        // The rights were checked and the file is being stored (its temp file is there) when the folder goes.
        var incoming = Path.Combine(app.StorageRoot, ".incoming");
        for (var i = 0; i < 300 && !(Directory.Exists(incoming) && Directory.GetFiles(incoming).Length > 0); i++) await Task.Delay(100);
        Assert.NotEmpty(Directory.GetFiles(incoming));

        var binned = await admin.DeleteAsync($"/folders/{folder}?includingContents=true");
        Assert.True(binned.IsSuccessStatusCode, await binned.Content.ReadAsStringAsync());
        body.Resume();
        var answer = await upload;

        Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);
        Assert.Contains("Not stored", await answer.Content.ReadAsStringAsync());
        Assert.Equal(0, await app.WithDbAsync(d => d.Documents.CountAsync(x => x.DisplayName == "late.bin")));
        var refused = Assert.Single(await app.AuditEventsAsync(), e => e.Action == AuditAction.DocumentUploaded);
        Assert.Equal((AuditOutcome.Denied, "late.bin"), (refused.Outcome, refused.TargetName));

        // Nothing live was left inside the binned folder, so emptying the bin works (it answered 500 when one was).
        var emptied = await admin.PostAsync("/bin/empty", null);
        Assert.True(emptied.IsSuccessStatusCode, await emptied.Content.ReadAsStringAsync());
        Assert.Equal(0, await app.WithDbAsync(d => d.Folders.CountAsync(f => f.Id == folder)));
    }

    /// <summary>A body that sends some bytes, waits until told to go on, then sends the rest.</summary>
    private sealed class PausesAfter(int before, int total) : Stream
    {
        private readonly TaskCompletionSource _paused = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _resume = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _sent;
        public Task Paused => _paused.Task;
        public void Resume() => _resume.TrySetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            if (_sent >= total) return 0;
            if (_sent >= before) { _paused.TrySetResult(); await _resume.Task.WaitAsync(ct); }
            var n = Math.Min(buffer.Length, (_sent < before ? before : total) - _sent);
            buffer.Span[..n].Fill(7);
            _sent += n;
            return n;
        }
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();
        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, default).GetAwaiter().GetResult();
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _sent; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A body that sends some bytes and then fails, as a dropped connection does.</summary>
    private sealed class BreaksAfter(int bytes) : Stream
    {
        private int _sent;
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_sent >= bytes) throw new IOException("connection lost");
            var n = Math.Min(count, bytes - _sent);
            Array.Fill(buffer, (byte)7, offset, n);
            _sent += n;
            return n;
        }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _sent; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
