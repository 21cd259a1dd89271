using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.App.Hosting;
using Portal.Data.Audit;
using Portal.Data.Database;
using Portal.Data.Folders;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Folders;

/// <summary>
/// Folder, document and bin endpoints through the real app on SQLite and on PostgreSQL: what changes, what the audit says before and
/// after, and that a user without the right is refused when calling the endpoint directly.
/// </summary>
public abstract class FolderEndpointTests(DatabaseProvider provider) : IAsyncLifetime
{
    private TestDatabase database = null!;
    protected PortalHost host = null!;
    protected Scenario scenario = null!;

    public async Task InitializeAsync()
    {
        database = TestDatabase.Create(provider);
        host = new PortalHost(database, DeliveryMode.Direct, settings: new Dictionary<string, string?> { ["Uploads:MaxFileBytes"] = (1024 * 1024).ToString() });
        scenario = await Scenario.CreateAsync(host.Services);
    }

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        await database.DisposeAsync();
    }

    protected async Task<HttpClient> SignedInAsync(string who)
    {
        var client = host.CreateBrowserLikeClient();
        await SignIn.AsDemoUserForFormsAsync(client, who);
        return client;
    }

    protected static async Task<Guid> IdOf(HttpResponseMessage response)
    {
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private static async Task<string?> DetailOf(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString();

    private Task<Folder> FolderAsync(Guid id) => host.WithDbAsync(db => db.Folders.AsNoTracking().SingleAsync(f => f.Id == id));

    private static MultipartFormDataContent File(string name, byte[] bytes)
    {
        var form = new MultipartFormDataContent();
        var part = new ByteArrayContent(bytes);
        part.Headers.TryAddWithoutValidation("Content-Disposition", $"form-data; name=\"files\"; filename=\"f\"; filename*=UTF-8''{Uri.EscapeDataString(name)}");
        form.Add(part);
        return form;
    }

    [Fact]
    public async Task An_admin_creates_renames_and_moves_folders_and_each_change_is_audited_with_before_and_after()
    {
        var admin = await SignedInAsync("admin");
        var projects = await IdOf(await admin.PostAsJsonAsync("/folders", new { name = "Projects", parentId = scenario.SharedFolderId }));
        var apollo = await IdOf(await admin.PostAsJsonAsync("/folders", new { name = "Apollo ☾", parentId = projects }));
        var notes = await IdOf(await admin.PostAsJsonAsync("/folders", new { name = "Notes", parentId = apollo }));

        Assert.Equal((await IdOf(await admin.PostAsJsonAsync($"/folders/{projects}/rename", new { name = "Projets été" }))), projects);
        Assert.Equal(projects, await IdOf(await admin.PostAsJsonAsync($"/folders/{projects}/move", new { targetFolderId = scenario.RestrictedFolderId })));

        // The whole subtree's materialised paths follow the move.
        var restricted = await FolderAsync(scenario.RestrictedFolderId);
        Assert.Equal(Folder.ChildPath(restricted.Path, projects), (await FolderAsync(projects)).Path);
        Assert.Equal(Folder.ChildPath(Folder.ChildPath(restricted.Path, projects), apollo), (await FolderAsync(apollo)).Path);
        Assert.Equal(Folder.ChildPath((await FolderAsync(apollo)).Path, notes), (await FolderAsync(notes)).Path);
        Assert.Equal("Projets été", (await FolderAsync(projects)).Name);

        var events = (await host.AuditEventsAsync()).Where(e => e.FolderId == projects && e.Outcome == AuditOutcome.Allowed).ToList();
        Assert.Equal([AuditAction.FolderCreated, AuditAction.FolderRenamed, AuditAction.FolderMoved], events.Select(e => e.Action));
        using var rename = JsonDocument.Parse(events[1].Changes!);
        Assert.Equal("Projects", rename.RootElement.GetProperty("before").GetProperty("name").GetString());
        Assert.Equal("Projets été", rename.RootElement.GetProperty("after").GetProperty("name").GetString());
        using var move = JsonDocument.Parse(events[2].Changes!);
        Assert.Equal("/Shared/Projets été", move.RootElement.GetProperty("before").GetProperty("path").GetString());
        Assert.Equal("/Restricted/Projets été", move.RootElement.GetProperty("after").GetProperty("path").GetString());
    }

    [Fact]
    public async Task Two_folders_of_one_name_created_at_once_leave_one_folder_and_one_event()
    {
        var admins = new[] { await SignedInAsync("admin"), await SignedInAsync("admin") };
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            admins[i % 2].PostAsJsonAsync("/folders", new { name = "Quarterly", parentId = scenario.SharedFolderId })));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Created || r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(7, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        var named = await host.WithDbAsync(db => db.Folders.CountAsync(f => f.ParentId == scenario.SharedFolderId && f.Name == "Quarterly"));
        Assert.Equal(1, named);
        Assert.Single(await host.AuditEventsAsync(), e => e.Action == AuditAction.FolderCreated && e.TargetName == "Quarterly");
        if (provider == DatabaseProvider.PostgreSQL) await AssertPooledConnectionsKeepNoSessionStateAsync();
    }

    /// <summary>
    /// The app returns PostgreSQL connections to the pool without a session reset (No Reset On Close): after the name
    /// lock and the audit chain lock were taken by eight requests at once, no connection may still hold an advisory
    /// lock (it would block every other instance), and a pooled connection must carry no SET of its own.
    /// </summary>
    private async Task AssertPooledConnectionsKeepNoSessionStateAsync()
    {
        await using (var watcher = new Npgsql.NpgsqlConnection(database.ConnectionString + ";Pooling=false"))
        {
            await watcher.OpenAsync();
            await using var locks = new Npgsql.NpgsqlCommand(
                "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND d.datname = current_database()", watcher);
            Assert.Equal(0L, (long)(await locks.ExecuteScalarAsync())!);
        }
        var changed = await host.WithDbAsync(db => db.Database.SqlQueryRaw<string>("SELECT name AS \"Value\" FROM pg_settings WHERE source = 'session'").ToListAsync());
        Assert.Empty(changed);
    }

    [Fact]
    public async Task Renames_and_moves_to_one_name_at_once_leave_one_folder_of_that_name()
    {
        var admin = await SignedInAsync("admin");
        var ids = new List<Guid>();
        foreach (var name in new[] { "a", "b", "c", "d" })
            ids.Add(await IdOf(await admin.PostAsJsonAsync("/folders", new { name, parentId = scenario.SharedFolderId })));
        var elsewhere = await IdOf(await admin.PostAsJsonAsync("/folders", new { name = "Elsewhere", parentId = scenario.SharedFolderId }));
        var mover = await IdOf(await admin.PostAsJsonAsync("/folders", new { name = "Budget", parentId = elsewhere }));

        var responses = await Task.WhenAll(ids.Select(id => admin.PostAsJsonAsync($"/folders/{id}/rename", new { name = "Budget" }))
            .Append(admin.PostAsJsonAsync($"/folders/{mover}/move", new { targetFolderId = scenario.SharedFolderId })));

        Assert.Equal(1, responses.Count(r => r.IsSuccessStatusCode));
        Assert.Equal(4, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        Assert.Equal(1, await host.WithDbAsync(db => db.Folders.CountAsync(f => f.ParentId == scenario.SharedFolderId && f.Name == "Budget")));
    }

    [Fact]
    public async Task A_folder_whose_name_was_taken_while_it_was_in_the_bin_is_not_restored_beside_the_new_one()
    {
        var admin = await SignedInAsync("admin");
        var old = await IdOf(await admin.PostAsJsonAsync("/folders", new { name = "Contracts", parentId = scenario.SharedFolderId }));
        var deletion = await IdOf(await admin.DeleteAsync($"/folders/{old}"));
        await IdOf(await admin.PostAsJsonAsync("/folders", new { name = "Contracts", parentId = scenario.SharedFolderId }));

        var restore = await admin.PostAsync($"/bin/{deletion}/restore", null);

        Assert.Equal(HttpStatusCode.Conflict, restore.StatusCode);
        Assert.Contains("Rename that one first", await DetailOf(restore));
        Assert.True((await FolderAsync(old)).IsDeleted);
        Assert.Equal(1, await host.WithDbAsync(db => db.Folders.CountAsync(f => f.ParentId == scenario.SharedFolderId && f.Name == "Contracts" && !f.IsDeleted)));
    }

    [Fact]
    public async Task A_folder_cannot_be_moved_into_its_own_subtree()
    {
        var admin = await SignedInAsync("admin");
        var top = await IdOf(await admin.PostAsJsonAsync("/folders", new { name = "Top", parentId = scenario.SharedFolderId }));
        var child = await IdOf(await admin.PostAsJsonAsync("/folders", new { name = "Child", parentId = top }));
        var pathBefore = (await FolderAsync(top)).Path;

        var intoChild = await admin.PostAsJsonAsync($"/folders/{top}/move", new { targetFolderId = child });
        var intoItself = await admin.PostAsJsonAsync($"/folders/{top}/move", new { targetFolderId = top });

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (intoChild.StatusCode, intoItself.StatusCode));
        Assert.Contains("into itself or into one of its own subfolders", await DetailOf(intoChild));
        Assert.Equal(pathBefore, (await FolderAsync(top)).Path);
    }

    [Theory]
    [InlineData("line\r\nbreak")]
    [InlineData("nul\0")]
    [InlineData("")]
    public async Task A_folder_name_with_control_characters_or_none_is_refused_with_a_clear_message(string name)
    {
        var admin = await SignedInAsync("admin");
        var before = await host.WithDbAsync(db => db.Folders.CountAsync());

        var created = await admin.PostAsJsonAsync("/folders", new { name, parentId = scenario.SharedFolderId });
        var renamed = await admin.PostAsJsonAsync($"/folders/{scenario.SharedFolderId}/rename", new { name });
        var renamedDocument = await admin.PostAsJsonAsync($"/documents/{scenario.SharedDocumentId}/rename", new { name });

        Assert.Equal([HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest], new[] { created.StatusCode, renamed.StatusCode, renamedDocument.StatusCode });
        Assert.Matches("control characters|needs a name|has no name", await DetailOf(created));
        Assert.Equal(before, await host.WithDbAsync(db => db.Folders.CountAsync()));
        Assert.Equal("Shared", (await FolderAsync(scenario.SharedFolderId)).Name);
    }

    [Fact]
    public async Task Deleting_a_folder_that_is_not_empty_asks_first_then_the_bin_restores_it_whole()
    {
        var admin = await SignedInAsync("admin");
        var unasked = await admin.DeleteAsync($"/folders/{scenario.SharedFolderId}");
        Assert.Equal(HttpStatusCode.Conflict, unasked.StatusCode);
        Assert.Contains("holds 0 folder(s) and 1 document(s)", await DetailOf(unasked));
        Assert.False((await FolderAsync(scenario.SharedFolderId)).IsDeleted);

        var deletion = await IdOf(await admin.DeleteAsync($"/folders/{scenario.SharedFolderId}?includingContents=true"));
        Assert.True((await FolderAsync(scenario.SharedFolderId)).IsDeleted);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/d/{scenario.SharedDocumentId}")).StatusCode);

        Assert.True((await admin.PostAsync($"/bin/{deletion}/restore", null)).IsSuccessStatusCode);
        Assert.False((await FolderAsync(scenario.SharedFolderId)).IsDeleted);
        Assert.Equal(scenario.SharedContent, await admin.GetByteArrayAsync($"/d/{scenario.SharedDocumentId}"));
        var actions = (await host.AuditEventsAsync()).Where(e => e.Outcome == AuditOutcome.Allowed && e.FolderId == scenario.SharedFolderId).Select(e => e.Action).ToList();
        Assert.Equal([AuditAction.FolderDeleted, AuditAction.FolderRestored, AuditAction.DocumentDownloaded], actions);
    }

    [Fact]
    public async Task Emptying_the_bin_removes_stored_bytes_only_when_nothing_else_uses_them()
    {
        var admin = await SignedInAsync("admin");
        var shared = new byte[] { 1, 2, 3, 4 };
        var alone = RandomNumberGenerator.GetBytes(2048);
        var upload = await admin.PostAsync($"/folders/{scenario.SharedFolderId}/documents", File("copy one.bin", shared));
        await admin.PostAsync($"/folders/{scenario.RestrictedFolderId}/documents", File("copy two.bin", shared));
        await admin.PostAsync($"/folders/{scenario.SharedFolderId}/documents", File("alone.bin", alone));
        var ids = await host.WithDbAsync(db => db.Documents.Where(d => d.DisplayName == "copy one.bin" || d.DisplayName == "alone.bin").Select(d => d.Id).ToListAsync());
        Assert.True(upload.IsSuccessStatusCode);
        foreach (var id in ids) Assert.True((await admin.DeleteAsync($"/documents/{id}")).IsSuccessStatusCode);

        Assert.True((await admin.PostAsync("/bin/empty", null)).IsSuccessStatusCode);

        var sharedHash = Convert.ToHexStringLower(SHA256.HashData(shared));
        var aloneHash = Convert.ToHexStringLower(SHA256.HashData(alone));
        Assert.True(System.IO.File.Exists(host.Storage.PathFor(sharedHash)), "content still used by \"copy two.bin\" stays");
        Assert.False(System.IO.File.Exists(host.Storage.PathFor(aloneHash)), "content nothing uses any more is removed");
        Assert.Equal(0, await host.WithDbAsync(db => db.Documents.CountAsync(d => ids.Contains(d.Id))));
        var emptied = Assert.Single(await host.AuditEventsAsync(), e => e.Action == AuditAction.BinEmptied);
        Assert.Contains("\"storedFilesRemoved\":1", emptied.Changes);
    }

    [Fact]
    public async Task A_new_version_keeps_the_old_one_downloadable_and_each_version_download_is_audited()
    {
        var admin = await SignedInAsync("admin");
        var second = RandomNumberGenerator.GetBytes(3000);

        Assert.Equal(scenario.SharedDocumentId, await IdOf(await admin.PostAsync($"/documents/{scenario.SharedDocumentId}/versions", File("Quarterly report v2.pdf", second))));

        var versions = await admin.GetFromJsonAsync<JsonElement>($"/documents/{scenario.SharedDocumentId}/versions");
        Assert.Equal([2, 1], versions.EnumerateArray().Select(v => v.GetProperty("number").GetInt32()));
        Assert.Equal(second, await admin.GetByteArrayAsync($"/d/{scenario.SharedDocumentId}"));
        Assert.Equal(scenario.SharedContent, await admin.GetByteArrayAsync($"/d/{scenario.SharedDocumentId}?version=1"));
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/d/{scenario.SharedDocumentId}?version=9")).StatusCode);

        var staff = await SignedInAsync("staff"); // Download in Shared: older versions too
        Assert.Equal(scenario.SharedContent, await staff.GetByteArrayAsync($"/d/{scenario.SharedDocumentId}?version=1"));

        var events = await host.AuditEventsAsync();
        var added = Assert.Single(events, e => e.Action == AuditAction.DocumentVersionAdded);
        Assert.Equal(("Version 2", Scenario.SharedDocumentName), (added.Reason, added.TargetName));
        using var changes = JsonDocument.Parse(added.Changes!);
        Assert.Equal(scenario.SharedContentHash, changes.RootElement.GetProperty("before").GetProperty("contentHash").GetString());
        var downloads = events.Where(e => e.Action == AuditAction.DocumentDownloaded).Select(e => (e.Outcome, e.Reason, e.ContentHash)).ToList();
        Assert.Contains((AuditOutcome.Allowed, "Version 1", scenario.SharedContentHash), downloads);
        Assert.Contains((AuditOutcome.Denied, "No such document or version 9", null), downloads);
    }

    [Fact]
    public async Task A_new_version_over_the_limit_or_with_a_control_character_is_refused_and_leaves_nothing()
    {
        var admin = await SignedInAsync("admin");
        var before = (Directory.GetFiles(host.StorageRoot, "*", SearchOption.AllDirectories).Length, await host.WithDbAsync(db => db.DocumentVersions.CountAsync()));

        var tooBig = await admin.PostAsync($"/documents/{scenario.SharedDocumentId}/versions", File("big.pdf", new byte[2 * 1024 * 1024]));
        var badName = await admin.PostAsync($"/documents/{scenario.SharedDocumentId}/versions", File("evil\r\n.pdf", [1]));

        Assert.Equal((HttpStatusCode.RequestEntityTooLarge, HttpStatusCode.BadRequest), (tooBig.StatusCode, badName.StatusCode));
        Assert.Equal("\"big.pdf\" is larger than the limit of 1 MiB.", await DetailOf(tooBig));
        Assert.Contains("control characters", await DetailOf(badName));
        Assert.Equal(before, (Directory.GetFiles(host.StorageRoot, "*", SearchOption.AllDirectories).Length, await host.WithDbAsync(db => db.DocumentVersions.CountAsync())));
        Assert.Equal(scenario.SharedContent, await admin.GetByteArrayAsync($"/d/{scenario.SharedDocumentId}"));
    }

    /// <summary>An upload to a folder: the document it was filed as (new, or the live one of that name) and its version.</summary>
    protected static async Task<(Guid Id, int Version)> UploadAsync(HttpClient client, Guid folderId, string name, byte[] bytes)
    {
        var response = await client.PostAsync($"/folders/{folderId}/documents", File(name, bytes));
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        var filed = (await response.Content.ReadFromJsonAsync<JsonElement>())[0];
        return (filed.GetProperty("id").GetGuid(), filed.GetProperty("version").GetInt32());
    }

    private Task<int> LiveNamedAsync(Guid folderId, string name) =>
        host.WithDbAsync(db => db.Documents.CountAsync(d => d.FolderId == folderId && d.DisplayName == name && !d.IsDeleted));

    [Fact]
    public async Task Uploading_a_name_already_in_the_folder_adds_a_version_of_that_document_not_a_second_one()
    {
        var admin = await SignedInAsync("admin");
        var (first, second) = (RandomNumberGenerator.GetBytes(2000), RandomNumberGenerator.GetBytes(3000));

        var original = await UploadAsync(admin, scenario.SharedFolderId, "Minutes — board.txt", first);
        var again = await UploadAsync(admin, scenario.SharedFolderId, "Minutes — board.txt", second);

        Assert.Equal((original.Id, 1, original.Id, 2), (original.Id, original.Version, again.Id, again.Version));
        Assert.Equal(1, await LiveNamedAsync(scenario.SharedFolderId, "Minutes — board.txt"));
        Assert.Equal(second, await admin.GetByteArrayAsync($"/d/{original.Id}"));
        Assert.Equal(first, await admin.GetByteArrayAsync($"/d/{original.Id}?version=1"));
        var events = (await host.AuditEventsAsync()).Where(e => e.DocumentId == original.Id && e.Action != AuditAction.DocumentDownloaded).ToList();
        Assert.Equal([AuditAction.DocumentUploaded, AuditAction.DocumentVersionAdded], events.Select(e => e.Action));
        Assert.Equal(("Version 2", "/Shared", Convert.ToHexStringLower(SHA256.HashData(second))), (events[1].Reason, events[1].TargetPath, events[1].ContentHash));
        Assert.Contains("\"uploadedAs\":\"Minutes — board.txt\"", events[1].Changes);

        // Same name, another folder, or a name only a deleted document has: a document of its own.
        var elsewhere = await UploadAsync(admin, scenario.RestrictedFolderId, "Minutes — board.txt", first);
        Assert.Equal(1, elsewhere.Version);
        Assert.NotEqual(original.Id, elsewhere.Id);
        await IdOf(await admin.DeleteAsync($"/documents/{original.Id}"));
        var fresh = await UploadAsync(admin, scenario.SharedFolderId, "Minutes — board.txt", first);
        Assert.Equal(1, fresh.Version);
        Assert.NotEqual(original.Id, fresh.Id);
    }

    /// <summary>Upload without Browse is a drop box: what the uploader gets back must not depend on what is in the folder.</summary>
    [Fact]
    public async Task A_drop_box_upload_under_a_taken_name_is_a_new_document_and_tells_nothing_of_the_one_there()
    {
        var staff = await SignedInAsync("staff"); // known to the portal once signed in
        var admin = await SignedInAsync("admin");
        Assert.True((await admin.PostAsJsonAsync($"/api/folders/{scenario.RestrictedFolderId}/permissions",
            new { user = "sam@example.org", rights = new[] { "Upload" } })).IsSuccessStatusCode);

        var filed = await UploadAsync(staff, scenario.RestrictedFolderId, Scenario.RestrictedDocumentName, [9, 9, 9]);

        Assert.Equal(1, filed.Version);
        Assert.NotEqual(scenario.RestrictedDocumentId, filed.Id);
        var original = await host.WithDbAsync(db => db.Documents.AsNoTracking().SingleAsync(d => d.Id == scenario.RestrictedDocumentId));
        Assert.Equal((1, 0), (original.CurrentVersion, await host.WithDbAsync(db => db.DocumentVersions.CountAsync(v => v.DocumentId == scenario.RestrictedDocumentId))));
        Assert.Equal(HttpStatusCode.Forbidden, (await staff.GetAsync($"/d/{scenario.RestrictedDocumentId}")).StatusCode);

        // Nor can its id replace it (a link seen in an email, say): a new version needs Browse as well.
        var replace = await staff.PostAsync($"/documents/{scenario.RestrictedDocumentId}/versions", File("Board minutes.txt", [6, 6, 6]));
        Assert.Equal(HttpStatusCode.Forbidden, replace.StatusCode);
        Assert.Equal("You may not do that here: no Browse right on the folder.", await DetailOf(replace));
        Assert.Equal(original.ContentHash, (await host.WithDbAsync(db => db.Documents.AsNoTracking().SingleAsync(d => d.Id == scenario.RestrictedDocumentId))).ContentHash);
    }

    [Fact]
    public async Task Nothing_is_uploaded_into_a_folder_in_the_bin_not_even_by_an_admin()
    {
        var admin = await SignedInAsync("admin");
        var folder = await IdOf(await admin.PostAsJsonAsync("/folders", new { name = "Old minutes", parentId = scenario.SharedFolderId }));
        await IdOf(await admin.DeleteAsync($"/folders/{folder}"));

        var response = await admin.PostAsync($"/folders/{folder}/documents", File("late.txt", [1, 2, 3]));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(0, await host.WithDbAsync(db => db.Documents.CountAsync(d => d.FolderId == folder)));
        var refused = Assert.Single(await host.AuditEventsAsync(), e => e.Action == AuditAction.DocumentUploaded);
        Assert.Equal((AuditOutcome.Denied, folder, "/Shared/Old minutes"), (refused.Outcome, refused.FolderId, refused.TargetPath));
    }

    [Fact]
    public async Task Uploads_of_one_new_name_at_once_leave_one_document_with_a_version_each()
    {
        var admins = new[] { await SignedInAsync("admin"), await SignedInAsync("admin") };
        var contents = Enumerable.Range(0, 6).Select(_ => RandomNumberGenerator.GetBytes(1000)).ToList();

        var filed = await Task.WhenAll(contents.Select((bytes, i) => UploadAsync(admins[i % 2], scenario.SharedFolderId, "Agenda.txt", bytes)));

        Assert.Single(filed.Select(f => f.Id).Distinct());
        Assert.Equal([1, 2, 3, 4, 5, 6], filed.Select(f => f.Version).Order());
        Assert.Equal(1, await LiveNamedAsync(scenario.SharedFolderId, "Agenda.txt"));
        var id = filed[0].Id;
        Assert.Equal([6, 5, 4, 3, 2, 1], (await admins[0].GetFromJsonAsync<JsonElement>($"/documents/{id}/versions")).EnumerateArray().Select(v => v.GetProperty("number").GetInt32()));
        var events = (await host.AuditEventsAsync()).Where(e => e.DocumentId == id).ToList();
        Assert.Equal((1, 5), (events.Count(e => e.Action == AuditAction.DocumentUploaded), events.Count(e => e.Action == AuditAction.DocumentVersionAdded)));
    }

    [Fact]
    public async Task A_document_is_not_renamed_moved_or_restored_onto_a_name_already_in_its_folder()
    {
        var admin = await SignedInAsync("admin");
        var plan = await UploadAsync(admin, scenario.SharedFolderId, "Plan.txt", [1]);
        var draft = await UploadAsync(admin, scenario.SharedFolderId, "Draft.txt", [2]);
        var planElsewhere = await UploadAsync(admin, scenario.RestrictedFolderId, "Plan.txt", [3]);

        var rename = await admin.PostAsJsonAsync($"/documents/{draft.Id}/rename", new { name = "Plan.txt" });
        var move = await admin.PostAsJsonAsync($"/documents/{planElsewhere.Id}/move", new { targetFolderId = scenario.SharedFolderId });

        Assert.Equal((HttpStatusCode.Conflict, HttpStatusCode.Conflict), (rename.StatusCode, move.StatusCode));
        Assert.Equal("A document named \"Plan.txt\" is already in this folder.", await DetailOf(rename));
        Assert.Equal("The destination already has a document named \"Plan.txt\".", await DetailOf(move));
        Assert.Equal(1, await LiveNamedAsync(scenario.SharedFolderId, "Plan.txt"));
        Assert.Equal(1, await LiveNamedAsync(scenario.SharedFolderId, "Draft.txt"));

        // Deleted, then the name taken by a new upload: the old one does not come back beside it.
        var deletion = await IdOf(await admin.DeleteAsync($"/documents/{plan.Id}"));
        await UploadAsync(admin, scenario.SharedFolderId, "Plan.txt", [4]);
        var restore = await admin.PostAsync($"/bin/{deletion}/restore", null);
        Assert.Equal(HttpStatusCode.Conflict, restore.StatusCode);
        Assert.Equal("A document named \"Plan.txt\" is already where this one was. Rename that one first, then restore this.", await DetailOf(restore));
        Assert.Equal(1, await LiveNamedAsync(scenario.SharedFolderId, "Plan.txt"));

        // Its own name again is no change; a free name is fine.
        Assert.True((await admin.PostAsJsonAsync($"/documents/{draft.Id}/rename", new { name = "Draft.txt" })).IsSuccessStatusCode);
        Assert.True((await admin.PostAsJsonAsync($"/documents/{draft.Id}/rename", new { name = "Plan v2.txt" })).IsSuccessStatusCode);
    }

    [Fact]
    public async Task Renaming_and_moving_a_document_are_audited_with_before_and_after()
    {
        var admin = await SignedInAsync("admin");
        Assert.True((await admin.PostAsJsonAsync($"/documents/{scenario.SharedDocumentId}/rename", new { name = "Rapport T3.pdf" })).IsSuccessStatusCode);
        Assert.True((await admin.PostAsJsonAsync($"/documents/{scenario.SharedDocumentId}/move", new { targetFolderId = scenario.RestrictedFolderId })).IsSuccessStatusCode);

        var doc = await host.WithDbAsync(db => db.Documents.AsNoTracking().SingleAsync(d => d.Id == scenario.SharedDocumentId));
        Assert.Equal(("Rapport T3.pdf", scenario.RestrictedFolderId), (doc.DisplayName, doc.FolderId));
        var changes = (await host.AuditEventsAsync()).Where(e => e.DocumentId == scenario.SharedDocumentId).Select(e => (e.Action, e.Changes)).ToList();
        Assert.Equal([AuditAction.DocumentRenamed, AuditAction.DocumentMoved], changes.Select(c => c.Action));
        Assert.Contains("\"before\":{\"name\":\"Quarterly report.pdf\"", changes[0].Changes);
        Assert.Contains("\"after\":{\"folderId\":\"" + scenario.RestrictedFolderId + "\",\"path\":\"/Restricted\"}", changes[1].Changes);
    }

    /// <summary>Every change endpoint, called directly by staff (Browse and Download in Shared, nothing in Restricted).</summary>
    public static TheoryData<string> Refused => new()
    {
        "create folder in Shared", "create top-level folder", "rename Shared", "move Shared", "delete Shared", "rename document",
        "move document", "delete document", "new version", "upload", "restore", "empty bin", "purge entry",
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task Staff_calling_a_change_endpoint_directly_is_refused_and_nothing_changes(string what)
    {
        var admin = await SignedInAsync("admin");
        var binned = await IdOf(await admin.DeleteAsync($"/documents/{scenario.RestrictedDocumentId}"));
        var staff = await SignedInAsync("staff");
        var before = await SnapshotAsync();
        var eventsBefore = (await host.AuditEventsAsync()).Count;
        var (s, d) = (scenario.SharedFolderId, scenario.SharedDocumentId);

        var response = what switch
        {
            "create folder in Shared" => await staff.PostAsJsonAsync("/folders", new { name = "x", parentId = s }),
            "create top-level folder" => await staff.PostAsJsonAsync("/folders", new { name = "x", parentId = (Guid?)null }),
            "rename Shared" => await staff.PostAsJsonAsync($"/folders/{s}/rename", new { name = "x" }),
            "move Shared" => await staff.PostAsJsonAsync($"/folders/{s}/move", new { targetFolderId = scenario.RestrictedFolderId }),
            "delete Shared" => await staff.DeleteAsync($"/folders/{s}?includingContents=true"),
            "rename document" => await staff.PostAsJsonAsync($"/documents/{d}/rename", new { name = "x" }),
            "move document" => await staff.PostAsJsonAsync($"/documents/{d}/move", new { targetFolderId = s }),
            "delete document" => await staff.DeleteAsync($"/documents/{d}"),
            "new version" => await staff.PostAsync($"/documents/{d}/versions", File("v2.pdf", [9, 9, 9])),
            "upload" => await staff.PostAsync($"/folders/{s}/documents", File("x.txt", [9, 9, 9])),
            "restore" => await staff.PostAsync($"/bin/{binned}/restore", null),
            "empty bin" => await staff.PostAsync("/bin/empty", null),
            "purge entry" => await staff.DeleteAsync($"/bin/{binned}"),
            _ => throw new ArgumentOutOfRangeException(nameof(what)),
        };

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(before, await SnapshotAsync());
        var refusal = Assert.Single((await host.AuditEventsAsync()).Skip(eventsBefore));
        Assert.Equal(AuditOutcome.Denied, refusal.Outcome);
        Assert.Equal("Sam Staff", refusal.ActorDisplayName);
    }

    [Fact]
    public async Task A_change_without_the_antiforgery_token_is_refused()
    {
        var admin = await SignedInAsync("admin");
        admin.DefaultRequestHeaders.Remove("RequestVerificationToken");
        var response = await admin.PostAsJsonAsync($"/folders/{scenario.SharedFolderId}/rename", new { name = "Cross-site" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("Shared", (await FolderAsync(scenario.SharedFolderId)).Name);
    }

    /// <summary>Everything a change could touch: folders, documents, versions and the stored files.</summary>
    private async Task<string> SnapshotAsync()
    {
        // Read as rows and formatted here: the query stays plain on every provider.
        var rows = await host.WithDbAsync(async db => string.Join("\n",
            (await db.Folders.AsNoTracking().OrderBy(f => f.Id).Select(f => new { f.Id, f.Name, f.Path, f.IsDeleted }).ToListAsync()).Select(f => f.ToString())
            .Concat((await db.Documents.AsNoTracking().OrderBy(x => x.Id).Select(x => new { x.Id, x.DisplayName, x.FolderId, x.IsDeleted, x.ContentHash, x.CurrentVersion }).ToListAsync()).Select(x => x.ToString()))
            .Concat((await db.DocumentVersions.AsNoTracking().OrderBy(v => v.Id).Select(v => new { v.Id, v.Number }).ToListAsync()).Select(v => v.ToString()))));
        return rows + "\n" + string.Join("\n", Directory.GetFiles(host.StorageRoot, "*", SearchOption.AllDirectories).Order());
    }
}

public sealed class SqliteFolderEndpointTests() : FolderEndpointTests(DatabaseProvider.Sqlite)
{
    // On SQLite (one writer per file) folder changes and the bin write in turn with the audit writer: met on the file
    // lock instead, the loser sleeps 150 ms in Microsoft.Data.Sqlite and every download waiting for its audit row with it.
    // Permission and user changes are not in the list: their audit event is committed first, which waits for the turn anyway.
    [Fact]
    public async Task Folder_changes_and_the_bin_wait_for_their_turn_with_the_audit_writer()
    {
        var admin = await SignedInAsync("admin");
        var gate = host.Services.GetRequiredService<DatabaseWriteGate>();
        var shared = scenario.SharedFolderId;
        Task<T> Db<T>(Func<Portal.Data.PortalDbContext, Task<T>> query) => host.WithDbAsync(query);
        Guid folder = default, deletion = default;

        // Each step: what to do first, the change made while another writer has its turn, and how to see it written.
        Task Nothing() => Task.CompletedTask;
        var steps = new (string What, Func<Task> First, Func<Task<HttpResponseMessage>> Change, Func<Task<bool>> Written)[]
        {
            ("create", Nothing, () => admin.PostAsJsonAsync("/folders", new { name = "Minutes", parentId = shared }),
                () => Db(db => db.Folders.AnyAsync(f => f.Name == "Minutes"))),
            ("rename", Nothing, () => admin.PostAsJsonAsync($"/folders/{folder}/rename", new { name = "Minutes 2027" }),
                () => Db(db => db.Folders.AnyAsync(f => f.Name == "Minutes 2027"))),
            ("move", Nothing, () => admin.PostAsJsonAsync($"/folders/{folder}/move", new { targetFolderId = scenario.RestrictedFolderId }),
                () => Db(db => db.Folders.AnyAsync(f => f.Id == folder && f.ParentId == scenario.RestrictedFolderId))),
            ("delete", Nothing, () => admin.DeleteAsync($"/folders/{folder}"),
                () => Db(db => db.Folders.AnyAsync(f => f.Id == folder && f.IsDeleted))),
            ("restore", Nothing, () => admin.PostAsync($"/bin/{deletion}/restore", null),
                () => Db(db => db.Folders.AnyAsync(f => f.Id == folder && !f.IsDeleted))),
            ("empty the bin", () => admin.DeleteAsync($"/folders/{folder}"), () => admin.PostAsync("/bin/empty", null),
                () => Db(db => db.Folders.AllAsync(f => f.Id != folder))),
        };

        foreach (var (what, first, change, written) in steps)
        {
            await first();
            Task<HttpResponseMessage> sent;
            var otherWriter = await gate.EnterAsync();
            try
            {
                sent = change();
                await Task.Delay(500);
                Assert.False(await written(), $"{what}: written while another writer had its turn");
            }
            finally { otherWriter.Dispose(); }

            var response = await sent;
            Assert.True(response.IsSuccessStatusCode, $"{what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.True(await written(), $"{what}: not written after the turn");
            if (what == "create") folder = await IdOf(response);
            if (what == "delete") deletion = await IdOf(response);
        }
    }
}

public sealed class PostgresFolderEndpointTests() : FolderEndpointTests(DatabaseProvider.PostgreSQL)
{
    /// <summary>Two app instances on one PostgreSQL database, and an admin signed in twice on each, alternating.</summary>
    private sealed class TwoInstances : IAsyncDisposable
    {
        private readonly TestDatabase database = TestDatabase.Create(DatabaseProvider.PostgreSQL);
        private PortalHost? second;
        public PortalHost First { get; private set; } = null!;
        public Scenario Scenario { get; private set; } = null!;
        public List<HttpClient> Admins { get; } = [];

        public static async Task<TwoInstances> StartAsync()
        {
            var two = new TwoInstances();
            two.First = new PortalHost(two.database) { InstanceTag = "a" };
            two.Scenario = await Scenario.CreateAsync(two.First.Services);
            two.second = new PortalHost(two.database) { InstanceTag = "b" };
            foreach (var host in new[] { two.First, two.second, two.First, two.second })
            {
                var client = host.CreateBrowserLikeClient();
                await SignIn.AsDemoUserForFormsAsync(client, "admin");
                two.Admins.Add(client);
            }
            return two;
        }

        public async ValueTask DisposeAsync()
        {
            if (second is not null) await second.DisposeAsync();
            if (First is not null) await First.DisposeAsync();
            await database.DisposeAsync();
        }
    }

    [Fact]
    public async Task Uploads_of_one_name_on_two_app_instances_at_once_leave_one_document()
    {
        await using var two = await TwoInstances.StartAsync();
        var (first, scenario, admins) = (two.First, two.Scenario, two.Admins);

        var filed = await Task.WhenAll(admins.Select((a, i) => UploadAsync(a, scenario.SharedFolderId, "Minutes.txt", [(byte)i])));

        Assert.Single(filed.Select(f => f.Id).Distinct());
        Assert.Equal([1, 2, 3, 4], filed.Select(f => f.Version).Order());
        Assert.Equal(1, await first.WithDbAsync(db => db.Documents.CountAsync(d => d.FolderId == scenario.SharedFolderId && d.DisplayName == "Minutes.txt")));
    }

    /// <summary>Two app instances on one database server take turns too (SQLite serves one app per database file).</summary>
    [Fact]
    public async Task Folders_of_one_name_created_on_two_app_instances_at_once_leave_one_folder()
    {
        await using var two = await TwoInstances.StartAsync();
        var (first, scenario, admins) = (two.First, two.Scenario, two.Admins);

        var responses = await Task.WhenAll(admins.Select(a => a.PostAsJsonAsync("/folders", new { name = "Minutes", parentId = scenario.SharedFolderId })));

        Assert.Equal((1, 3), (responses.Count(r => r.IsSuccessStatusCode), responses.Count(r => r.StatusCode == HttpStatusCode.Conflict)));
        Assert.Equal(1, await first.WithDbAsync(db => db.Folders.CountAsync(f => f.ParentId == scenario.SharedFolderId && f.Name == "Minutes")));
    }
}
