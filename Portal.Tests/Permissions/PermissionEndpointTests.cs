using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.App.Hosting;
using Portal.Data;
using Portal.Data.Audit;
using Portal.Data.Folders;
using Portal.Data.Permissions;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Permissions;

/// <summary>
/// The permission and users API through the real app on SQLite: who may call what (called directly, not through
/// the pages), what is refused and how, and the audit trail of every change with before and after.
/// </summary>
public sealed class PermissionEndpointTests : IAsyncLifetime
{
    private TestDatabase database = null!;
    private PortalHost host = null!;
    private Scenario scenario = null!;
    private HttpClient admin = null!, staff = null!;
    private Guid staffGroupEntry;

    public async Task InitializeAsync()
    {
        database = new SqliteTestDatabase();
        host = new PortalHost(database, DeliveryMode.Direct);
        scenario = await Scenario.CreateAsync(host.Services);
        admin = await SignedInAsync("admin");
        staff = await SignedInAsync("staff");
        staffGroupEntry = await host.WithDbAsync(db => db.PermissionEntries.Where(p => p.FolderId == scenario.SharedFolderId).Select(p => p.Id).SingleAsync());
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

    /// <summary>Everything a permission change could touch, to show a refused call changed nothing.</summary>
    private Task<string> PermissionStateAsync() => host.WithDbAsync(async db =>
        string.Join(";", (await db.PermissionEntries.AsNoTracking().Select(p => new { p.Id, p.FolderId, p.UserId, p.GroupId, p.Rights }).ToListAsync())
            .OrderBy(p => p.Id).Select(p => $"{p.Id}:{p.FolderId}:{p.UserId}:{p.GroupId}:{p.Rights}"))
        + "|" + string.Join(";", (await db.Folders.AsNoTracking().Select(f => new { f.Id, f.InheritPermissions }).ToListAsync()).OrderBy(f => f.Id).Select(f => $"{f.Id}:{f.InheritPermissions}")));

    private static async Task<string> DetailAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;

    private async Task<Folder> AddFolderAsync(string name, Guid? parentId, bool inherit = true)
    {
        await using var db = await host.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        var parent = parentId is null ? null : await db.Folders.SingleAsync(f => f.Id == parentId);
        var folder = Scenario.NewFolder(name, parent);
        folder.InheritPermissions = inherit;
        db.Folders.Add(folder);
        await db.SaveChangesAsync();
        return folder;
    }

    private async Task GrantDirectAsync(Guid folderId, Guid userId, Rights rights)
    {
        await using var db = await host.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        db.PermissionEntries.Add(new PermissionEntry { Id = Guid.NewGuid(), FolderId = folderId, UserId = userId, Rights = rights });
        await db.SaveChangesAsync();
    }

    [Fact]
    public async Task A_user_without_Manage_is_refused_by_every_permission_endpoint_and_nothing_changes()
    {
        var before = await PermissionStateAsync();
        var shared = scenario.SharedFolderId; // staff may browse and download here, but not manage

        var calls = new (string What, Func<Task<HttpResponseMessage>> Call)[]
        {
            ("access panel", () => staff.GetAsync($"/api/folders/{shared}/access")),
            ("grant", () => staff.PostAsJsonAsync($"/api/folders/{shared}/permissions", new { group = "staff", rights = new[] { "Manage" } })),
            ("grant to self", () => staff.PostAsJsonAsync($"/api/folders/{shared}/permissions", new { user = "sam@example.org", rights = new[] { "Manage" } })),
            ("change", () => staff.PutAsJsonAsync($"/api/permissions/{staffGroupEntry}", new { rights = new[] { "Browse", "Download", "Upload", "Manage" } })),
            ("revoke", () => staff.DeleteAsync($"/api/permissions/{staffGroupEntry}")),
            ("inheritance", () => staff.PutAsJsonAsync($"/api/folders/{shared}/inheritance", new { inherit = false })),
            ("explain", () => staff.GetAsync($"/api/explain?user={scenario.StaffUserId}&folder={shared}&right=Download")),
            ("users", () => staff.GetAsync("/api/users")),
            ("disable", () => staff.PostAsync($"/api/users/{scenario.AdminUserId}/disable", null)),
            ("enable", () => staff.PostAsync($"/api/users/{scenario.StaffUserId}/enable", null)),
        };
        foreach (var (what, call) in calls)
        {
            var response = await call();
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{what}: {(int)response.StatusCode}");
        }

        Assert.Equal(before, await PermissionStateAsync());
        Assert.False(await host.WithDbAsync(db => db.Users.AnyAsync(u => u.IsDisabled)));
        var denied = (await host.AuditEventsAsync()).Where(e => e.Outcome == AuditOutcome.Denied && e.ActorUserId == scenario.StaffUserId).Select(e => e.Action).ToList();
        Assert.Equal(2, denied.Count(a => a == AuditAction.PermissionGranted));
        Assert.Contains(AuditAction.PermissionChanged, denied);
        Assert.Contains(AuditAction.PermissionRevoked, denied);
        Assert.Contains(AuditAction.InheritanceChanged, denied);
        Assert.Contains(AuditAction.UserDisabled, denied);
        Assert.Contains(AuditAction.UserEnabled, denied);
    }

    [Fact]
    public async Task Without_a_session_nothing_is_answered()
    {
        var anonymous = host.CreateBrowserLikeClient();
        var response = await anonymous.PostAsJsonAsync($"/api/folders/{scenario.SharedFolderId}/permissions", new { group = "staff", rights = new[] { "Manage" } });
        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.NotEqual(HttpStatusCode.OK, (await anonymous.GetAsync("/api/users")).StatusCode);
        Assert.False(await host.WithDbAsync(db => db.PermissionEntries.AnyAsync(p => p.Rights.HasFlag(Rights.Manage))));
    }

    [Fact]
    public async Task A_change_without_the_antiforgery_token_is_refused_even_for_an_admin()
    {
        var before = await PermissionStateAsync();
        var bare = host.CreateBrowserLikeClient();
        await SignIn.AsDemoUserAsync(bare, "admin");

        var response = await bare.PostAsJsonAsync($"/api/folders/{scenario.RestrictedFolderId}/permissions", new { group = "staff", rights = new[] { "Browse" } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("antiforgery", await DetailAsync(response));
        Assert.Equal(before, await PermissionStateAsync());
    }

    [Theory]
    [InlineData("{\"group\":\"no-such-group\",\"rights\":[\"Browse\"]}", "No group named \"no-such-group\" is known")]
    [InlineData("{\"user\":\"nobody@example.org\",\"rights\":[\"Browse\"]}", "No user \"nobody@example.org\" is known")]
    [InlineData("{\"group\":\"staff\",\"rights\":[]}", "Tick at least one right")]
    [InlineData("{\"group\":\"staff\",\"rights\":[\"Delete\"]}", "Rights are Browse, Download, Upload and Manage")]
    [InlineData("{\"group\":\"staff\",\"rights\":[\"15\"]}", "Rights are Browse, Download, Upload and Manage")]
    [InlineData("{\"group\":\"staff\",\"user\":\"sam@example.org\",\"rights\":[\"Browse\"]}", "one user or one group")]
    public async Task A_grant_that_cannot_be_meant_is_refused_with_a_clear_message(string body, string message)
    {
        var before = await PermissionStateAsync();
        var response = await admin.PostAsync($"/api/folders/{scenario.RestrictedFolderId}/permissions",
            new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, await DetailAsync(response));
        Assert.Equal(before, await PermissionStateAsync());
    }

    [Fact]
    public async Task Grant_change_revoke_and_inheritance_are_each_audited_with_before_and_after()
    {
        var child = await AddFolderAsync("Minutes", scenario.RestrictedFolderId);

        var grant = await admin.PostAsJsonAsync($"/api/folders/{scenario.RestrictedFolderId}/permissions", new { user = "sam@example.org", rights = new[] { "Browse" } });
        Assert.Equal(HttpStatusCode.OK, grant.StatusCode);
        var entryId = (await grant.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/permissions/{entryId}", new { rights = new[] { "Browse", "Download" } })).StatusCode);
        Assert.Equal(Rights.Browse | Rights.Download, await host.WithDbAsync(db => db.PermissionEntries.Where(p => p.Id == entryId).Select(p => p.Rights).SingleAsync()));
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/folders/{child.Id}/inheritance", new { inherit = false })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.DeleteAsync($"/api/permissions/{entryId}")).StatusCode);
        Assert.False(await host.WithDbAsync(db => db.PermissionEntries.AnyAsync(p => p.Id == entryId)));
        Assert.False(await host.WithDbAsync(db => db.Folders.Where(f => f.Id == child.Id).Select(f => f.InheritPermissions).SingleAsync()));

        var events = (await host.AuditEventsAsync()).Where(e => e.Changes is not null && e.Action != AuditAction.SettingsChanged).ToList();
        Assert.Equal([AuditAction.PermissionGranted, AuditAction.PermissionChanged, AuditAction.InheritanceChanged, AuditAction.PermissionRevoked],
            events.Select(e => e.Action));
        Assert.All(events, e => Assert.Equal(scenario.AdminUserId, e.ActorUserId));
        Assert.All(events, e => Assert.Equal(AuditOutcome.Allowed, e.Outcome));

        JsonElement Changes(int i) => JsonDocument.Parse(events[i].Changes!).RootElement;
        Assert.Equal(JsonValueKind.Null, Changes(0).GetProperty("before").ValueKind);
        Assert.Equal(["Browse"], Changes(0).GetProperty("after").GetProperty("rights").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal("Sam Staff", Changes(0).GetProperty("after").GetProperty("name").GetString());
        Assert.Equal("/Restricted", events[0].TargetPath);
        Assert.Equal(["Browse"], Changes(1).GetProperty("before").GetProperty("rights").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(["Browse", "Download"], Changes(1).GetProperty("after").GetProperty("rights").EnumerateArray().Select(r => r.GetString()));
        Assert.True(Changes(2).GetProperty("before").GetProperty("inheritPermissions").GetBoolean());
        Assert.False(Changes(2).GetProperty("after").GetProperty("inheritPermissions").GetBoolean());
        Assert.Equal("/Restricted/Minutes", events[2].TargetPath);
        Assert.Equal(["Browse", "Download"], Changes(3).GetProperty("before").GetProperty("rights").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(JsonValueKind.Null, Changes(3).GetProperty("after").ValueKind);

        // The audit chain still verifies with the changes in it (what verify-audit said, if not). The portal signs its
        // chain's head about once a second; a loaded machine can take longer, so sign it now as the next tick would.
        await host.Services.GetRequiredService<Portal.App.Audit.AuditHeadSigning>().SignNowAsync();
        var said = new StringWriter();
        Assert.True(await Portal.App.Hosting.AuditVerification.RunAsync(host.Services, said) == 0, said.ToString());
    }

    [Fact]
    public async Task Manage_on_a_folder_covers_its_subtree_and_nothing_beside_it()
    {
        await GrantDirectAsync(scenario.SharedFolderId, scenario.StaffUserId, Rights.Manage);
        var child = await AddFolderAsync("Team", scenario.SharedFolderId);

        Assert.Equal(HttpStatusCode.OK, (await staff.PostAsJsonAsync($"/api/folders/{child.Id}/permissions", new { group = "compliance", rights = new[] { "Browse" } })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await staff.PostAsJsonAsync($"/api/folders/{scenario.RestrictedFolderId}/permissions", new { group = "compliance", rights = new[] { "Browse" } })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await staff.GetAsync($"/api/folders/{child.Id}/access")).StatusCode);

        // Stopping inheritance below would cut the manager off: refused until they hold Manage there themselves.
        var cut = await staff.PutAsJsonAsync($"/api/folders/{child.Id}/inheritance", new { inherit = false });
        Assert.Equal(HttpStatusCode.BadRequest, cut.StatusCode);
        Assert.Contains("take away your own Manage right", await DetailAsync(cut));
        await GrantDirectAsync(child.Id, scenario.StaffUserId, Rights.Manage);
        Assert.Equal(HttpStatusCode.OK, (await staff.PutAsJsonAsync($"/api/folders/{child.Id}/inheritance", new { inherit = false })).StatusCode);
    }

    [Fact]
    public async Task The_access_panel_says_where_each_entry_comes_from_and_where_inheritance_stops()
    {
        var team = await AddFolderAsync("Team", scenario.SharedFolderId);
        var walled = await AddFolderAsync("Private", team.Id, inherit: false);
        await GrantDirectAsync(walled.Id, scenario.StaffUserId, Rights.Upload);

        var teamAccess = await admin.GetFromJsonAsync<JsonElement>($"/api/folders/{team.Id}/access");
        var inherited = Assert.Single(teamAccess.GetProperty("entries").EnumerateArray());
        Assert.Equal("staff", inherited.GetProperty("principalName").GetString());
        Assert.Equal("/Shared", inherited.GetProperty("folderPath").GetString());
        Assert.False(inherited.GetProperty("onThisFolder").GetBoolean());
        Assert.True(inherited.GetProperty("applies").GetBoolean());

        var walledAccess = await admin.GetFromJsonAsync<JsonElement>($"/api/folders/{walled.Id}/access");
        Assert.Equal("/Shared/Team/Private", walledAccess.GetProperty("namesPath").GetString());
        var entries = walledAccess.GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal(2, entries.Count);
        Assert.False(entries.Single(e => e.GetProperty("principalName").GetString() == "staff").GetProperty("applies").GetBoolean());
        Assert.True(entries.Single(e => e.GetProperty("principalName").GetString() != "staff").GetProperty("applies").GetBoolean());

        var explain = await admin.GetFromJsonAsync<JsonElement>($"/api/explain?user={scenario.StaffUserId}&folder={walled.Id}&right=Browse");
        Assert.False(explain.GetProperty("allowed").GetBoolean());
        var reasons = explain.GetProperty("reasons").EnumerateArray().Select(r => r.GetString()!).ToList();
        Assert.Contains(reasons, r => r.StartsWith("Not granted by the entry for the group staff") && r.Contains("/Shared") && r.Contains("\"Private\" stops inheritance"));
        var upload = await admin.GetFromJsonAsync<JsonElement>($"/api/explain?user={scenario.StaffUserId}&folder={walled.Id}&right=Upload");
        Assert.True(upload.GetProperty("allowed").GetBoolean());
        Assert.Contains(upload.GetProperty("reasons").EnumerateArray(), r => r.GetString() == "Granted by Sam Staff's own entry on /Shared/Team/Private (Upload), this folder.");
    }

    [Fact]
    public async Task A_folder_manager_who_is_not_an_admin_may_not_explain_anyone_and_the_refusal_is_recorded()
    {
        // Sam manages a folder of his own: he may see its entries and grant there, but "explain" would show him anyone's
        // admin flag and groups (issue #25). Before, Manage on the folder was enough.
        var own = await AddFolderAsync("Sam's projects", scenario.SharedFolderId);
        await GrantDirectAsync(own.Id, scenario.StaffUserId, Rights.Browse | Rights.Manage);
        Assert.Equal(HttpStatusCode.OK, (await staff.GetAsync($"/api/folders/{own.Id}/access")).StatusCode);

        var response = await staff.GetAsync($"/api/explain?user={scenario.AdminUserId}&folder={own.Id}&right=Browse");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("Only admins may explain", body);
        Assert.DoesNotContain("portal-admins", body);
        var refused = Assert.Single(await host.AuditEventsAsync(), e => e.Action == AuditAction.AccessRefused && e.ActorUserId == scenario.StaffUserId);
        Assert.Equal((AuditOutcome.Denied, "/api/explain"), (refused.Outcome, refused.TargetPath));
        // An admin still gets the answer.
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/api/explain?user={scenario.StaffUserId}&folder={own.Id}&right=Browse")).StatusCode);
    }

    [Fact]
    public async Task The_picker_search_finds_people_by_name_and_groups_and_needs_Manage()
    {
        var found = await admin.GetFromJsonAsync<JsonElement>($"/api/folders/{scenario.SharedFolderId}/principals?q=sam%20st");
        var match = Assert.Single(found.EnumerateArray());
        Assert.Equal(("Sam Staff", false, scenario.StaffUserId), (match.GetProperty("name").GetString(), match.GetProperty("isGroup").GetBoolean(), match.GetProperty("id").GetGuid()));
        Assert.Equal(HttpStatusCode.Forbidden, (await staff.GetAsync($"/api/folders/{scenario.SharedFolderId}/principals?q=a")).StatusCode);
    }

    [Fact]
    public async Task Disabling_a_user_ends_their_session_at_once_refuses_their_sign_in_and_is_audited()
    {
        Assert.Equal(HttpStatusCode.OK, (await staff.GetAsync($"/d/{scenario.SharedDocumentId}")).StatusCode);

        var disable = await admin.PostAsync($"/api/users/{scenario.StaffUserId}/disable", null);
        Assert.Equal(HttpStatusCode.OK, disable.StatusCode);

        // The cookie they hold is no longer a session: no download, no page.
        Assert.NotEqual(HttpStatusCode.OK, (await staff.GetAsync($"/d/{scenario.SharedDocumentId}")).StatusCode);
        var page = await staff.GetAsync($"/folders/{scenario.SharedFolderId}");
        Assert.Equal(HttpStatusCode.Found, page.StatusCode);
        Assert.StartsWith("/signin", page.Headers.Location?.PathAndQuery ?? page.Headers.Location?.OriginalString);
        // And signing in again is refused.
        var again = host.CreateBrowserLikeClient();
        var token = SignIn.TokenOf(await again.GetStringAsync("/signin"));
        var signIn = await again.PostAsync("/auth/dev-signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["user"] = "staff", ["returnUrl"] = "/", ["__RequestVerificationToken"] = token,
        }));
        Assert.Equal("/signin?error=1", signIn.Headers.Location?.OriginalString);
        Assert.NotEqual(HttpStatusCode.OK, (await again.GetAsync($"/d/{scenario.SharedDocumentId}")).StatusCode);
        Assert.False(await host.WithDbAsync(db => db.Sessions.AnyAsync(s => s.UserId == scenario.StaffUserId && s.EndedAt == null)));

        var users = await admin.GetFromJsonAsync<JsonElement>("/api/users");
        var row = users.EnumerateArray().Single(u => u.GetProperty("id").GetGuid() == scenario.StaffUserId);
        Assert.True(row.GetProperty("isDisabled").GetBoolean());
        Assert.Equal(["staff"], row.GetProperty("groups").EnumerateArray().Select(g => g.GetString()));

        // Enabled again, they sign in and download as before.
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/users/{scenario.StaffUserId}/enable", null)).StatusCode);
        var back = host.CreateBrowserLikeClient();
        await SignIn.AsDemoUserAsync(back, "staff");
        Assert.Equal(HttpStatusCode.OK, (await back.GetAsync($"/d/{scenario.SharedDocumentId}")).StatusCode);

        var events = await host.AuditEventsAsync();
        var disabled = Assert.Single(events, e => e.Action == AuditAction.UserDisabled);
        Assert.Equal(scenario.AdminUserId, disabled.ActorUserId);
        var changes = JsonDocument.Parse(disabled.Changes!).RootElement;
        Assert.False(changes.GetProperty("before").GetProperty("disabled").GetBoolean());
        Assert.True(changes.GetProperty("after").GetProperty("disabled").GetBoolean());
        Assert.Equal(scenario.StaffUserId, changes.GetProperty("after").GetProperty("userId").GetGuid());
        Assert.Single(events, e => e.Action == AuditAction.UserEnabled && e.Outcome == AuditOutcome.Allowed);
        Assert.Contains(events, e => e.Action == AuditAction.SignInFailed && e.ActorUserId == scenario.StaffUserId && e.Reason!.Contains("disabled"));
    }

    [Fact]
    public async Task An_admin_cannot_disable_themselves()
    {
        var response = await admin.PostAsync($"/api/users/{scenario.AdminUserId}/disable", null);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.False(await host.WithDbAsync(db => db.Users.AnyAsync(u => u.IsDisabled)));
    }
}
