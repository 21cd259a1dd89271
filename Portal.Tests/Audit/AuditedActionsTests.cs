using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Portal.App.Audit;
using Portal.App.Auth;
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
        // Loaded by its address: the prerendered answer lists the documents, so it is recorded then, and the circuit that
        // follows does not record the same opening again (once, not twice).
        ["folder page loaded by its address"] = new(AuditAction.FolderOpened, AuditOutcome.Allowed, "Sam Staff",
            async w =>
            {
                var page = (IPage)w.Arranged!;
                await page.GotoAsync($"/folders/{w.Scenario.SharedFolderId}");
                await Assertions.Expect(page.Locator("[data-interactive=true]")).ToHaveCountAsync(1, new() { Timeout = 15000 });
                await Assertions.Expect(page.GetByTestId("folder-title")).ToHaveTextAsync("Shared", new() { Timeout = 20000 });
                await Task.Delay(1000); // a second record from the circuit, if any, has landed by now
                return null;
            },
            (e, w, _) => { Assert.Equal(w.Scenario.SharedFolderId, e.FolderId); Assert.Equal("/Shared", e.TargetPath); },
            Arrange: async w => await w.NewPageAsync("staff")),
        // A client that never opens the circuit (a script, a plain GET) still got the listing: recorded.
        ["folder page without the circuit"] = new(AuditAction.FolderOpened, AuditOutcome.Allowed, "Sam Staff",
            async w =>
            {
                var page = await w.Staff.GetStringAsync($"/folders/{w.Scenario.SharedFolderId}");
                Assert.Contains(Scenario.SharedDocumentName, page);
                return null;
            },
            (e, w, _) => { Assert.Equal(w.Scenario.SharedFolderId, e.FolderId); Assert.Equal("/Shared", e.TargetPath); }),
        // The person is not told the name of a folder they may not open; the record names it.
        ["folder open denied"] = new(AuditAction.FolderOpened, AuditOutcome.Denied, "Sam Staff",
            async w =>
            {
                var page = await w.Staff.GetStringAsync($"/folders/{w.Scenario.RestrictedFolderId}");
                Assert.DoesNotContain("Restricted", page);
                return null;
            },
            (e, w, _) =>
            {
                Assert.Equal((w.Scenario.RestrictedFolderId, "Restricted", "/Restricted"), (e.FolderId, e.TargetName, e.TargetPath));
                Assert.Equal("No Browse right on the folder", e.Reason);
            }),
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
            (e, w, _) => { Assert.Equal(w.Scenario.SharedFolderId, e.FolderId); Assert.Equal("/Shared", e.TargetPath); Assert.Equal("Minutes 2027.txt", e.TargetName); Assert.NotNull(e.DocumentId); Assert.Equal(5, e.Size); }),
        ["upload denied"] = new(AuditAction.DocumentUploaded, AuditOutcome.Denied, "Sam Staff",
            async w => { Assert.Equal(HttpStatusCode.Forbidden, (await w.UploadAsync(w.Staff, w.Scenario.SharedFolderId, "sneaky.txt")).StatusCode); return null; },
            (e, w, _) => { Assert.Equal(w.Scenario.SharedFolderId, e.FolderId); Assert.Equal("/Shared", e.TargetPath); Assert.Equal("No Upload right on the folder", e.Reason); }),
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
        ["audit log view denied"] = AuditLogRefused(AuditAction.AuditLogViewed, "Ada Admin", w => w.Admin, "/audit"),
        ["audit export denied"] = AuditLogRefused(AuditAction.AuditExported, "Sam Staff", w => w.Staff, "/audit/export.jsonl"),
        ["admin page refused"] = new(AuditAction.AccessRefused, AuditOutcome.Denied, "Sam Staff",
            async w =>
            {
                var response = await w.Staff.GetAsync("/admin/users");
                Assert.Equal("/denied", response.Headers.Location?.AbsolutePath);
                return null;
            },
            (e, _, _) =>
            {
                Assert.Equal(("Only for administrators", "/admin/users", null), (e.Reason, e.TargetPath, e.TargetName));
                Assert.Equal("/admin/users", AuditQueries.ToRow(e, null).Target); // what the grid's target column shows
            }),
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
                var before = (await w.Host.AuditEventsAsync()).Count;
                var page = await w.NewPageAsync("compliance");
                await page.GotoAsync("/audit");
                await Assertions.Expect(page.Locator("[data-interactive=true]")).ToHaveCountAsync(1, new() { Timeout = 15000 });
                // Opening the page is itself an event, recorded over the circuit: let it land before the count starts.
                await w.WaitForEventAsync(before, AuditAction.AuditLogViewed);
                return page;
            }),
        // Changes, each through its HTTP endpoint as the pages' scripts or an API client call it. Each row works on a
        // folder or document of its own (made in Arrange), so the rows do not depend on each other's order.
        ["folder created"] = new(AuditAction.FolderCreated, AuditOutcome.Allowed, "Ada Admin",
            async w => await w.IdOfAsync(await w.Admin.PostAsJsonAsync("/folders", new { name = "Created ☾", parentId = w.Scenario.SharedFolderId })),
            (e, w, id) =>
            {
                AssertFolder(e, (Guid)id!, "Created ☾", "/Shared/Created ☾");
                var c = ChangesOf(e);
                Assert.Equal(JsonValueKind.Null, c.GetProperty("before").ValueKind);
                Assert.Equal("Created ☾", c.GetProperty("after").GetProperty("name").GetString());
                Assert.Equal(w.Scenario.SharedFolderId, c.GetProperty("after").GetProperty("parentId").GetGuid());
            }),
        ["folder renamed"] = new(AuditAction.FolderRenamed, AuditOutcome.Allowed, "Ada Admin",
            async w => await w.IdOfAsync(await w.Admin.PostAsJsonAsync($"/folders/{w.Arranged}/rename", new { name = "Renamed after" })),
            (e, w, id) =>
            {
                AssertFolder(e, (Guid)id!, "Renamed after", "/Shared/Renamed after");
                AssertChange(e, "name", "Renamed before", "Renamed after");
            },
            Arrange: async w => await w.NewFolderAsync("Renamed before")),
        ["folder moved"] = new(AuditAction.FolderMoved, AuditOutcome.Allowed, "Ada Admin",
            async w => await w.IdOfAsync(await w.Admin.PostAsJsonAsync($"/folders/{w.Arranged}/move", new { targetFolderId = w.Scenario.RestrictedFolderId })),
            (e, w, id) =>
            {
                AssertFolder(e, (Guid)id!, "Mover", "/Restricted/Mover");
                AssertChange(e, "path", "/Shared/Mover", "/Restricted/Mover");
                AssertChange(e, "parentId", w.Scenario.SharedFolderId.ToString(), w.Scenario.RestrictedFolderId.ToString());
            },
            Arrange: async w => await w.NewFolderAsync("Mover")),
        ["folder deleted"] = new(AuditAction.FolderDeleted, AuditOutcome.Allowed, "Ada Admin",
            async w => await w.IdOfAsync(await w.Admin.DeleteAsync($"/folders/{w.Arranged}")),
            (e, w, deletionId) =>
            {
                AssertFolder(e, (Guid)w.Arranged!, "Doomed", "/Shared/Doomed");
                AssertChange(e, "deleted", "False", "True");
                Assert.Equal((Guid)deletionId!, ChangesOf(e).GetProperty("after").GetProperty("deletionId").GetGuid());
            },
            Arrange: async w => await w.NewFolderAsync("Doomed")),
        ["folder restored"] = new(AuditAction.FolderRestored, AuditOutcome.Allowed, "Ada Admin",
            async w => await w.IdOfAsync(await w.Admin.PostAsync($"/bin/{(((Guid, Guid))w.Arranged!).Item2}/restore", null)),
            (e, w, id) =>
            {
                AssertFolder(e, (Guid)id!, "Comeback", "/Shared/Comeback");
                AssertChange(e, "deleted", "True", "False");
            },
            Arrange: async w =>
            {
                var folder = await w.NewFolderAsync("Comeback");
                return (folder, await w.IdOfAsync(await w.Admin.DeleteAsync($"/folders/{folder}")));
            }),
        ["document renamed"] = new(AuditAction.DocumentRenamed, AuditOutcome.Allowed, "Ada Admin",
            async w => await w.IdOfAsync(await w.Admin.PostAsJsonAsync($"/documents/{w.Arranged}/rename", new { name = "Plan v2 été.txt" })),
            (e, w, id) =>
            {
                AssertTarget(e, (Guid)id!, "/Shared", "Plan v2 été.txt");
                AssertChange(e, "name", "Plan v1.txt", "Plan v2 été.txt");
            },
            Arrange: async w => await w.NewDocumentAsync("Plan v1.txt")),
        ["document moved"] = new(AuditAction.DocumentMoved, AuditOutcome.Allowed, "Ada Admin",
            async w => await w.IdOfAsync(await w.Admin.PostAsJsonAsync($"/documents/{w.Arranged}/move", new { targetFolderId = w.Scenario.RestrictedFolderId })),
            (e, w, id) =>
            {
                AssertTarget(e, (Guid)id!, "/Restricted", "Moving.txt");
                Assert.Equal(w.Scenario.RestrictedFolderId, e.FolderId);
                AssertChange(e, "path", "/Shared", "/Restricted");
                AssertChange(e, "folderId", w.Scenario.SharedFolderId.ToString(), w.Scenario.RestrictedFolderId.ToString());
            },
            Arrange: async w => await w.NewDocumentAsync("Moving.txt")),
        ["document deleted"] = new(AuditAction.DocumentDeleted, AuditOutcome.Allowed, "Ada Admin",
            async w => await w.IdOfAsync(await w.Admin.DeleteAsync($"/documents/{w.Arranged}")),
            (e, w, deletionId) =>
            {
                AssertTarget(e, (Guid)w.Arranged!, "/Shared", "Binned.txt");
                AssertChange(e, "deleted", "False", "True");
                Assert.Equal((Guid)deletionId!, ChangesOf(e).GetProperty("after").GetProperty("deletionId").GetGuid());
            },
            Arrange: async w => await w.NewDocumentAsync("Binned.txt")),
        ["document restored"] = new(AuditAction.DocumentRestored, AuditOutcome.Allowed, "Ada Admin",
            async w => await w.IdOfAsync(await w.Admin.PostAsync($"/bin/{(((Guid, Guid))w.Arranged!).Item2}/restore", null)),
            (e, w, id) =>
            {
                AssertTarget(e, (Guid)id!, "/Shared", "Returned.txt");
                Assert.Equal(w.Scenario.SharedFolderId, e.FolderId);
                AssertChange(e, "deleted", "True", "False");
            },
            Arrange: async w =>
            {
                var doc = await w.NewDocumentAsync("Returned.txt");
                return (doc, await w.IdOfAsync(await w.Admin.DeleteAsync($"/documents/{doc}")));
            }),
        ["new version"] = new(AuditAction.DocumentVersionAdded, AuditOutcome.Allowed, "Ada Admin",
            async w => await w.IdOfAsync(await w.Admin.PostAsync($"/documents/{w.Arranged}/versions", AuditWorld.FileForm("Versioned (2).txt", "Second"u8.ToArray()))),
            (e, w, id) =>
            {
                AssertTarget(e, (Guid)id!, "/Shared", "Versioned.txt");
                Assert.Equal("Version 2", e.Reason);
                Assert.Equal(Convert.ToHexStringLower(SHA256.HashData("Second"u8)), e.ContentHash);
                Assert.Equal(6, e.Size);
                AssertChange(e, "version", "1", "2");
                Assert.Equal("Versioned (2).txt", ChangesOf(e).GetProperty("after").GetProperty("uploadedAs").GetString());
            },
            Arrange: async w => await w.NewDocumentAsync("Versioned.txt")),
        ["older version downloaded"] = new(AuditAction.DocumentDownloaded, AuditOutcome.Allowed, "Ada Admin",
            async w =>
            {
                var response = await w.Admin.GetAsync($"/d/{w.Arranged}?version=1");
                Assert.Equal("Hello", await response.Content.ReadAsStringAsync());
                return null;
            },
            (e, w, _) =>
            {
                AssertTarget(e, (Guid)w.Arranged!, "/Shared", "Two versions.txt");
                Assert.Equal("Version 1", e.Reason);
                Assert.Equal(Convert.ToHexStringLower(SHA256.HashData("Hello"u8)), e.ContentHash);
                Assert.Equal(5, e.Size);
            },
            Arrange: async w =>
            {
                var doc = await w.NewDocumentAsync("Two versions.txt");
                await w.IdOfAsync(await w.Admin.PostAsync($"/documents/{doc}/versions", AuditWorld.FileForm("Two versions.txt", "Newer text"u8.ToArray())));
                return doc;
            }),
        ["bin entry emptied"] = new(AuditAction.BinEmptied, AuditOutcome.Allowed, "Ada Admin",
            async w => { Assert.Equal(HttpStatusCode.OK, (await w.Admin.DeleteAsync($"/bin/{(((Guid, Guid))w.Arranged!).Item2}")).StatusCode); return null; },
            (e, w, _) =>
            {
                var (folder, deletion) = ((Guid, Guid))w.Arranged!;
                Assert.Equal($"Bin entry {deletion}", e.Reason);
                var c = ChangesOf(e);
                Assert.Equal(1, c.GetProperty("before").GetProperty("folders").GetInt32());
                Assert.Equal(1, c.GetProperty("before").GetProperty("documents").GetInt32());
                Assert.Equal(folder, Assert.Single(c.GetProperty("before").GetProperty("folderIds").EnumerateArray()).GetGuid());
                Assert.Equal(0, c.GetProperty("after").GetProperty("folders").GetInt32());
            },
            Arrange: async w =>
            {
                var folder = await w.NewFolderAsync("Gone for good");
                await w.NewDocumentAsync("Shredded.txt", folder);
                return (folder, await w.IdOfAsync(await w.Admin.DeleteAsync($"/folders/{folder}?includingContents=true")));
            }),
        ["permission granted"] = new(AuditAction.PermissionGranted, AuditOutcome.Allowed, "Ada Admin",
            async w => await w.GrantAsync((Guid)w.Arranged!, "tom@example.org", ["Browse", "Download"]),
            (e, w, _) =>
            {
                AssertFolder(e, (Guid)w.Arranged!, "Granted", "/Shared/Granted");
                Assert.Equal("Granted Browse, Download to Tom Staff", e.Reason);
                var c = ChangesOf(e);
                Assert.Equal(JsonValueKind.Null, c.GetProperty("before").ValueKind);
                Assert.Equal(w.UserIds["staff2"], c.GetProperty("after").GetProperty("principalId").GetGuid());
                Assert.Equal("""["Browse","Download"]""", c.GetProperty("after").GetProperty("rights").GetRawText());
            },
            Arrange: async w => await w.NewFolderAsync("Granted")),
        ["permission changed"] = new(AuditAction.PermissionChanged, AuditOutcome.Allowed, "Ada Admin",
            async w =>
            {
                var (_, entry) = ((Guid, Guid))w.Arranged!;
                Assert.Equal(HttpStatusCode.OK, (await w.Admin.PutAsJsonAsync($"/api/permissions/{entry}", new { rights = new[] { "Browse", "Download", "Upload" } })).StatusCode);
                return null;
            },
            (e, w, _) =>
            {
                AssertFolder(e, (((Guid, Guid))w.Arranged!).Item1, "Changed", "/Shared/Changed");
                var c = ChangesOf(e);
                Assert.Equal("""["Browse"]""", c.GetProperty("before").GetProperty("rights").GetRawText());
                Assert.Equal("""["Browse","Download","Upload"]""", c.GetProperty("after").GetProperty("rights").GetRawText());
                Assert.Equal(w.UserIds["staff2"], c.GetProperty("after").GetProperty("principalId").GetGuid());
            },
            Arrange: async w =>
            {
                var folder = await w.NewFolderAsync("Changed");
                return (folder, await w.GrantAsync(folder, "tom@example.org", ["Browse"]));
            }),
        ["permission revoked"] = new(AuditAction.PermissionRevoked, AuditOutcome.Allowed, "Ada Admin",
            async w =>
            {
                var (_, entry) = ((Guid, Guid))w.Arranged!;
                Assert.Equal(HttpStatusCode.OK, (await w.Admin.DeleteAsync($"/api/permissions/{entry}")).StatusCode);
                return null;
            },
            (e, w, _) =>
            {
                AssertFolder(e, (((Guid, Guid))w.Arranged!).Item1, "Revoked", "/Shared/Revoked");
                var c = ChangesOf(e);
                Assert.Equal("group", c.GetProperty("before").GetProperty("principal").GetString());
                Assert.Equal("compliance", c.GetProperty("before").GetProperty("name").GetString());
                Assert.Equal(JsonValueKind.Null, c.GetProperty("after").ValueKind);
            },
            Arrange: async w =>
            {
                var folder = await w.NewFolderAsync("Revoked");
                return (folder, await w.GrantAsync(folder, null, ["Browse"], group: "compliance"));
            }),
        ["inheritance changed"] = new(AuditAction.InheritanceChanged, AuditOutcome.Allowed, "Ada Admin",
            async w =>
            {
                Assert.Equal(HttpStatusCode.OK, (await w.Admin.PutAsJsonAsync($"/api/folders/{w.Arranged}/inheritance", new { inherit = false })).StatusCode);
                return null;
            },
            (e, w, _) =>
            {
                AssertFolder(e, (Guid)w.Arranged!, "Walled", "/Shared/Walled");
                AssertChange(e, "inheritPermissions", "True", "False");
            },
            Arrange: async w => await w.NewFolderAsync("Walled")),
        ["user disabled"] = new(AuditAction.UserDisabled, AuditOutcome.Allowed, "Ada Admin",
            async w =>
            {
                Assert.Equal(HttpStatusCode.OK, (await w.Admin.PostAsync($"/api/users/{w.UserIds["staff2"]}/disable", null)).StatusCode);
                return null;
            },
            (e, w, _) =>
            {
                Assert.Equal("Tom Staff", e.TargetName);
                AssertChange(e, "disabled", "False", "True");
                Assert.Equal(w.UserIds["staff2"], ChangesOf(e).GetProperty("before").GetProperty("userId").GetGuid());
                Assert.Equal("demo-staff2", ChangesOf(e).GetProperty("after").GetProperty("subject").GetString());
            },
            // Tom is signed in: ending his session is part of disabling him, not a second event.
            Arrange: async w =>
            {
                Assert.Equal(HttpStatusCode.OK, (await w.Admin.PostAsync($"/api/users/{w.UserIds["staff2"]}/enable", null)).StatusCode);
                return await w.NewClientAsync("staff2");
            }),
        ["user enabled"] = new(AuditAction.UserEnabled, AuditOutcome.Allowed, "Ada Admin",
            async w =>
            {
                Assert.Equal(HttpStatusCode.OK, (await w.Admin.PostAsync($"/api/users/{w.UserIds["staff2"]}/enable", null)).StatusCode);
                return null;
            },
            (e, w, _) =>
            {
                Assert.Equal("Tom Staff", e.TargetName);
                AssertChange(e, "disabled", "True", "False");
            },
            Arrange: async w =>
            {
                Assert.Equal(HttpStatusCode.OK, (await w.Admin.PostAsync($"/api/users/{w.UserIds["staff2"]}/disable", null)).StatusCode);
                return null;
            }),
        // Refusals of changes: recorded with the reason, where it was refused, and nothing changed.
        ["document rename denied"] = new(AuditAction.DocumentRenamed, AuditOutcome.Denied, "Sam Staff",
            async w => { Assert.Equal(HttpStatusCode.Forbidden, (await w.Staff.PostAsJsonAsync($"/documents/{w.Scenario.SharedDocumentId}/rename", new { name = "Mine now.pdf" })).StatusCode); return null; },
            (e, w, _) =>
            {
                AssertTarget(e, w.Scenario.SharedDocumentId, "/Shared", Scenario.SharedDocumentName);
                Assert.Equal("No Manage right on the folder", e.Reason);
                Assert.Null(e.Changes);
            }),
        ["folder delete denied"] = new(AuditAction.FolderDeleted, AuditOutcome.Denied, "Sam Staff",
            async w => { Assert.Equal(HttpStatusCode.Forbidden, (await w.Staff.DeleteAsync($"/folders/{w.Arranged}")).StatusCode); return null; },
            (e, w, _) =>
            {
                AssertFolder(e, (Guid)w.Arranged!, "Kept", "/Shared/Kept");
                Assert.Equal("No Manage right on the folder", e.Reason);
            },
            Arrange: async w => await w.NewFolderAsync("Kept")),
        ["permission grant denied"] = new(AuditAction.PermissionGranted, AuditOutcome.Denied, "Sam Staff",
            async w => { Assert.Equal(HttpStatusCode.Forbidden, (await w.Staff.PostAsJsonAsync($"/api/folders/{w.Scenario.SharedFolderId}/permissions", new { user = "sam@example.org", rights = new[] { "Manage" } })).StatusCode); return null; },
            (e, w, _) =>
            {
                AssertFolder(e, w.Scenario.SharedFolderId, "Shared", "/Shared");
                Assert.Equal("No Manage right on the folder", e.Reason);
            }),
        ["settings changed"] = new(AuditAction.SettingsChanged, AuditOutcome.Allowed, SettingsAudit.SystemName,
            // Settings come from configuration: the app starts again on the same database with a smaller upload limit.
            async w =>
            {
                await using var restarted = new PortalHost(w.Database, settings: new Dictionary<string, string?>
                {
                    ["Storage:Root"] = w.Host.StorageRoot, ["Uploads:MaxFileBytes"] = "1048576",
                });
                _ = restarted.Services; // started: migrations, then the settings check
                return null;
            },
            (e, _, _) =>
            {
                Assert.Equal((SettingsAudit.SystemSubject, (Guid?)null, (string?)null), (e.ActorSubject, e.ActorUserId, e.ActorGroups));
                Assert.Equal("Changed at start-up: Uploads:MaxFileBytes", e.Reason);
                Assert.Equal("""{"before":{"Uploads:MaxFileBytes":"2147483648"},"after":{"Uploads:MaxFileBytes":"1048576"}}""", e.Changes);
            }),
    };

    public static TheoryData<string> RowNames => new(Rows.Keys);

    private static void AssertFolder(AuditEvent e, Guid folderId, string name, string path)
    {
        Assert.Equal(folderId, e.FolderId);
        Assert.Null(e.DocumentId);
        Assert.Equal(name, e.TargetName);
        Assert.Equal(path, e.TargetPath);
    }

    /// <summary>A person without the compliance role asks for the audit log at <paramref name="url"/>: "No access", and a refusal on the record.</summary>
    private static AuditedAction AuditLogRefused(AuditAction action, string actor, Func<AuditWorld, HttpClient> client, string url) =>
        new(action, AuditOutcome.Denied, actor,
            async w =>
            {
                var response = await client(w).GetAsync(url);
                Assert.Equal("/denied", response.Headers.Location?.AbsolutePath);
                return null;
            },
            (e, _, _) => Assert.Equal(AccessRefusals.NotComplianceOfficer, e.Reason));

    private static JsonElement ChangesOf(AuditEvent e) => JsonDocument.Parse(e.Changes ?? "null").RootElement;

    /// <summary>Changes names <paramref name="key"/> with this value before and that after (compared as text).</summary>
    private static void AssertChange(AuditEvent e, string key, string before, string after)
    {
        var c = ChangesOf(e);
        Assert.Equal(before, c.GetProperty("before").GetProperty(key).ToString());
        Assert.Equal(after, c.GetProperty("after").GetProperty(key).ToString());
    }

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
        // Who: the person's portal id, subject and the groups they had at that moment (the system has no address).
        if (DemoUsers.All.FirstOrDefault(u => u.DisplayName == action.Actor) is { } person)
        {
            Assert.Equal((world.UserIds[person.Key], $"demo-{person.Key}"), (e.ActorUserId, e.ActorSubject));
            Assert.Contains(person.Group, e.ActorGroups!.Split(','));
        }
        Assert.Equal(action.Actor == SettingsAudit.SystemName ? null : "127.0.0.1", e.ClientIp);
        Assert.NotNull(e.CorrelationId);
        // A change says what it was before and after; an access has no Changes.
        if (e.Changes is not null)
            Assert.Equal(["before", "after"], ChangesOf(e).EnumerateObject().Select(p => p.Name));
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

    public TestDatabase Database => _database!;
    public PortalHost Host { get; private set; } = null!;
    /// <summary>The demo people's portal ids, by their key ("admin", "staff2"…).</summary>
    public Dictionary<string, Guid> UserIds { get; } = [];
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
        foreach (var u in await Host.WithDbAsync(db => db.Users.AsNoTracking().ToListAsync()))
            if (DemoUsers.All.FirstOrDefault(d => $"demo-{d.Key}" == u.Subject) is { } demo) UserIds[demo.Key] = u.Id;
        Staff = await NewClientAsync("staff");
        Admin = await NewClientAsync("admin");
        Compliance = await NewClientAsync("compliance");
        foreach (var client in new[] { Staff, Admin })
            await SignIn.WithFormTokenAsync(client);
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

    public static MultipartFormDataContent FileForm(string name, byte[] bytes)
    {
        var form = new MultipartFormDataContent();
        var part = new ByteArrayContent(bytes);
        part.Headers.TryAddWithoutValidation("Content-Disposition", $"form-data; name=\"files\"; filename=\"upload\"; filename*=UTF-8''{Uri.EscapeDataString(name)}");
        form.Add(part);
        return form;
    }

    /// <summary>The id a change endpoint answered with (failing with its problem text otherwise).</summary>
    public async Task<Guid> IdOfAsync(HttpResponseMessage response)
    {
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    /// <summary>A new folder (under Shared unless told), made by the admin through the endpoint.</summary>
    public async Task<Guid> NewFolderAsync(string name, Guid? parent = null) =>
        await IdOfAsync(await Admin.PostAsJsonAsync("/folders", new { name, parentId = parent ?? Scenario.SharedFolderId }));

    /// <summary>A new document holding "Hello" (in Shared unless told), uploaded by the admin.</summary>
    public async Task<Guid> NewDocumentAsync(string name, Guid? folder = null)
    {
        var response = await Admin.PostAsync($"/folders/{folder ?? Scenario.SharedFolderId}/documents", FileForm(name, "Hello"u8.ToArray()));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>())[0].GetProperty("id").GetGuid();
    }

    /// <summary>Grants rights on a folder to a user (email) or a group, as the admin; the entry's id.</summary>
    public async Task<Guid> GrantAsync(Guid folder, string? user, string[] rights, string? group = null) =>
        await IdOfAsync(await Admin.PostAsJsonAsync($"/api/folders/{folder}/permissions", new { user, group, rights }));

    /// <summary>Waits (up to 20 s) until an event of <paramref name="action"/> comes after the first <paramref name="before"/> events.</summary>
    public async Task WaitForEventAsync(int before, AuditAction action)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!(await Host.AuditEventsAsync()).Skip(before).Any(e => e.Action == action))
        {
            Assert.True(DateTime.UtcNow < deadline, $"No {action} event was recorded within 20 s.");
            await Task.Delay(100);
        }
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
