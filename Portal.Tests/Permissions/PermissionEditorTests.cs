using System.Security.Claims;
using System.Text.Json;
using AngleSharp.Dom;
using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.App.Auth;
using Portal.App.Permissions;
using Portal.App.Users;
using Portal.Data.Audit;
using Portal.Data.Database;
using Portal.Data.Folders;
using Portal.Data.Permissions;
using Portal.Data.Users;
using Portal.Tests.Infrastructure;
using Radzen;

namespace Portal.Tests.Permissions;

/// <summary>
/// The permission editor and the users page (bunit, real rules and audit log on SQLite). Each action is checked on
/// the server at the moment of the click: a person who loses Manage after the page opened is refused.
/// </summary>
public sealed class PermissionEditorTests : BunitContext, IAsyncLifetime
{
    private DataServices data = null!;
    private Guid manager, plain, financeGroup;
    private Folder projects = null!, alpha = null!;
    private Guid managerEntry, financeEntry;

    public async Task InitializeAsync()
    {
        data = await DataServices.CreateAsync(DatabaseProvider.Sqlite);
        Services.AddSingleton(new PermissionAdministration(data.Contexts, data.Permissions, data.Audit, TimeProvider.System, new Portal.Data.Database.PermissionGrantLock(), NullLogger<PermissionAdministration>.Instance));
        Services.AddSingleton(new UserAdministration(data.Contexts, new SessionStore(data.Contexts, TimeProvider.System), data.Audit, TimeProvider.System, NullLogger<UserAdministration>.Instance));
        Services.AddSingleton(new Portal.App.Folders.FolderCatalog(data.Contexts, data.Permissions));
        Services.AddRadzenComponents();
        Services.AddHttpContextAccessor(); // the pages record where a change came from (none here: no connection)
        JSInterop.Mode = JSRuntimeMode.Loose;

        await using var db = await data.Contexts.CreateDbContextAsync();
        manager = Guid.NewGuid(); plain = Guid.NewGuid(); financeGroup = Guid.NewGuid();
        db.Users.AddRange(new User { Id = manager, Issuer = "t", Subject = "mia", DisplayName = "Mia Manager", Email = "mia@example.org", EmailVerified = true },
                          new User { Id = plain, Issuer = "t", Subject = "pat", DisplayName = "Pat Plain", Email = "pat@example.org", EmailVerified = true });
        db.Groups.AddRange(new Portal.Data.Users.Group { Id = financeGroup, Name = "finance" }, new Portal.Data.Users.Group { Id = Guid.NewGuid(), Name = "staff" });
        projects = Scenario.NewFolder("Projects");
        alpha = Scenario.NewFolder("Alpha", projects);
        db.Folders.AddRange(projects, alpha);
        managerEntry = Guid.NewGuid(); financeEntry = Guid.NewGuid();
        db.PermissionEntries.AddRange(
            new PermissionEntry { Id = managerEntry, FolderId = projects.Id, UserId = manager, Rights = Rights.Browse | Rights.Manage },
            new PermissionEntry { Id = financeEntry, FolderId = projects.Id, GroupId = financeGroup, Rights = Rights.Browse },
            new PermissionEntry { Id = Guid.NewGuid(), FolderId = projects.Id, UserId = plain, Rights = Rights.Browse | Rights.Download });
        await db.SaveChangesAsync();
    }

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await data.DisposeAsync();
    }

    private void SignedInAs(Guid userId, bool admin = false)
    {
        var auth = AddAuthorization();
        auth.SetAuthorized("someone");
        // The role as the portal's cookie carries it: a role claim next to the user id.
        auth.SetClaims(admin
            ? [new Claim(PortalClaims.UserId, userId.ToString()), new Claim(ClaimTypes.Role, PortalRoles.Admin)]
            : [new Claim(PortalClaims.UserId, userId.ToString())]);
    }

    private IRenderedComponent<PermissionEditor> Editor(Guid userId, Guid folderId, bool admin = false)
    {
        SignedInAs(userId, admin);
        var cut = Render<PermissionEditor>(p => p.Add(c => c.FolderId, folderId));
        cut.WaitForAssertion(() => Assert.True(cut.FindAll("[data-testid=permission-editor]").Count + cut.FindAll("[data-testid=editor-refused]").Count == 1));
        return cut;
    }

    private static IElement Row(IRenderedComponent<PermissionEditor> cut, string principal) =>
        cut.FindAll("[data-testid=entry-row]").Single(r => r.QuerySelector("[data-testid=entry-principal]")!.TextContent.Contains(principal));

    private Task<Rights?> StoredRightsAsync(Guid entryId) => Task.Run(async () =>
    {
        await using var db = await data.Contexts.CreateDbContextAsync();
        return await db.PermissionEntries.Where(p => p.Id == entryId).Select(p => (Rights?)p.Rights).SingleOrDefaultAsync();
    });

    private async Task<List<AuditEvent>> EventsAsync()
    {
        await using var db = await data.Contexts.CreateDbContextAsync();
        return await db.AuditEvents.AsNoTracking().OrderBy(e => e.Id).ToListAsync();
    }

    [Fact]
    public void Shows_the_folders_own_entries_with_their_rights_ticked()
    {
        var cut = Editor(manager, projects.Id);

        Assert.Equal(3, cut.FindAll("[data-testid=entry-row]").Count);
        var finance = Row(cut, "finance");
        Assert.StartsWith("Group:", finance.QuerySelector("[data-testid=entry-principal]")!.TextContent.Trim());
        Assert.True(finance.QuerySelector("[data-testid=entry-Browse]")!.HasAttribute("checked"));
        Assert.False(finance.QuerySelector("[data-testid=entry-Download]")!.HasAttribute("checked"));
        Assert.True(Row(cut, "Mia Manager").QuerySelector("[data-testid=entry-Manage]")!.HasAttribute("checked"));
        Assert.True(cut.Find("[data-testid=inherit-toggle]").HasAttribute("disabled")); // a top-level folder
    }

    [Fact]
    public async Task Granting_to_a_group_stores_the_entry_shows_it_and_records_it()
    {
        var cut = Editor(manager, projects.Id);
        cut.Find("[data-testid=new-kind]").Change("group");
        cut.Find("[data-testid=new-principal]").Change("staff");
        cut.Find("[data-testid=new-Upload]").Change(true);
        cut.Find("[data-testid=grant]").Click();

        cut.WaitForAssertion(() => Assert.Contains("Granted", cut.Find("[data-testid=editor-message]").TextContent));
        Assert.True(Row(cut, "staff").QuerySelector("[data-testid=entry-Upload]")!.HasAttribute("checked"));
        await using var db = await data.Contexts.CreateDbContextAsync();
        Assert.Equal(Rights.Browse | Rights.Download | Rights.Upload,
            await db.PermissionEntries.Where(p => p.FolderId == projects.Id && p.Group!.Name == "staff").Select(p => p.Rights).SingleAsync());
        var granted = Assert.Single(await EventsAsync(), e => e.Action == AuditAction.PermissionGranted);
        Assert.Equal(manager, granted.ActorUserId);
        var after = JsonDocument.Parse(granted.Changes!).RootElement.GetProperty("after");
        Assert.Equal("group", after.GetProperty("principal").GetString());
        Assert.Equal(["Browse", "Download", "Upload"], after.GetProperty("rights").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public async Task Granting_to_a_user_by_email_works()
    {
        var cut = Editor(manager, alpha.Id);
        cut.Find("[data-testid=new-kind]").Change("user");
        cut.Find("[data-testid=new-principal]").Change("pat@example.org");
        cut.Find("[data-testid=grant]").Click();

        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=entry-row]")));
        Assert.Contains("Pat Plain", cut.Find("[data-testid=entry-principal]").TextContent);
        await using var db = await data.Contexts.CreateDbContextAsync();
        Assert.True(await db.PermissionEntries.AnyAsync(p => p.FolderId == alpha.Id && p.UserId == plain));
    }

    [Fact]
    public async Task An_unknown_group_is_refused_with_the_reason_and_nothing_is_stored()
    {
        var cut = Editor(manager, projects.Id);
        cut.Find("[data-testid=new-principal]").Change("finanse");
        cut.Find("[data-testid=grant]").Click();

        cut.WaitForAssertion(() => Assert.Contains("No group named \"finanse\" is known", cut.Find("[data-testid=editor-message]").TextContent));
        Assert.Equal(3, cut.FindAll("[data-testid=entry-row]").Count);
        Assert.DoesNotContain(await EventsAsync(), e => e.Action == AuditAction.PermissionGranted);
    }

    [Fact]
    public async Task Changing_the_ticks_and_saving_stores_the_new_rights()
    {
        var cut = Editor(manager, projects.Id);
        Row(cut, "finance").QuerySelector("[data-testid=entry-Download]")!.Change(true);
        Row(cut, "finance").QuerySelector("[data-testid=entry-save]")!.Click();

        cut.WaitForAssertion(() => Assert.Contains("now has Browse, Download", cut.Find("[data-testid=editor-message]").TextContent));
        Assert.Equal(Rights.Browse | Rights.Download, await StoredRightsAsync(financeEntry));
        var changed = Assert.Single(await EventsAsync(), e => e.Action == AuditAction.PermissionChanged);
        Assert.Contains("\"before\":{", changed.Changes);
    }

    [Fact]
    public async Task Unticking_every_right_is_refused_and_the_entry_kept()
    {
        var cut = Editor(manager, projects.Id);
        Row(cut, "finance").QuerySelector("[data-testid=entry-Browse]")!.Change(false);
        Row(cut, "finance").QuerySelector("[data-testid=entry-save]")!.Click();

        cut.WaitForAssertion(() => Assert.Contains("Tick at least one right", cut.Find("[data-testid=editor-message]").TextContent));
        Assert.Equal(Rights.Browse, await StoredRightsAsync(financeEntry));
    }

    [Fact]
    public async Task Remove_revokes_the_entry()
    {
        var cut = Editor(manager, projects.Id);
        Row(cut, "finance").QuerySelector("[data-testid=entry-revoke]")!.Click();

        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=entry-row]").Count));
        Assert.Null(await StoredRightsAsync(financeEntry));
        Assert.Single(await EventsAsync(), e => e.Action == AuditAction.PermissionRevoked && e.Outcome == AuditOutcome.Allowed);
    }

    [Fact]
    public async Task The_inheritance_switch_stores_the_flag()
    {
        var cut = Editor(Guid.NewGuid(), alpha.Id, admin: true);
        Assert.True(cut.FindAll("[data-testid=inherit-toggle]").Count == 1, cut.Markup);
        Assert.True(cut.Find("[data-testid=inherit-toggle]").HasAttribute("checked"));
        cut.Find("[data-testid=inherit-toggle]").Change(false);

        cut.WaitForAssertion(() => Assert.False(cut.Find("[data-testid=inherit-toggle]").HasAttribute("checked")));
        await using var db = await data.Contexts.CreateDbContextAsync();
        Assert.False(await db.Folders.Where(f => f.Id == alpha.Id).Select(f => f.InheritPermissions).SingleAsync());
        Assert.Single(await EventsAsync(), e => e.Action == AuditAction.InheritanceChanged);
    }

    [Fact]
    public void A_user_without_Manage_gets_no_editor()
    {
        var cut = Editor(plain, projects.Id);
        Assert.Contains("needs the Manage right", cut.Find("[data-testid=editor-refused]").TextContent);
        Assert.Empty(cut.FindAll("[data-testid=permission-editor]"));
        Assert.DoesNotContain("finance", cut.Markup);
    }

    [Fact]
    public async Task A_click_after_Manage_was_taken_away_is_refused_on_the_server()
    {
        var cut = Editor(manager, projects.Id);
        await using (var db = await data.Contexts.CreateDbContextAsync())
        {
            await db.PermissionEntries.Where(p => p.Id == managerEntry).ExecuteUpdateAsync(u => u.SetProperty(p => p.Rights, Rights.Browse));
        }

        Row(cut, "finance").QuerySelector("[data-testid=entry-revoke]")!.Click();

        cut.WaitForAssertion(() => Assert.Contains("needs the Manage right", cut.Find("[data-testid=editor-refused]").TextContent));
        Assert.Equal(Rights.Browse, await StoredRightsAsync(financeEntry));
        Assert.Single(await EventsAsync(), e => e.Action == AuditAction.PermissionRevoked && e.Outcome == AuditOutcome.Denied && e.ActorUserId == manager);
    }

    [Fact]
    public void The_users_page_shows_nothing_to_someone_who_is_not_an_admin()
    {
        SignedInAs(plain);
        var refused = Render<UsersPage>();
        refused.WaitForAssertion(() => Assert.Contains("Only admins", refused.Find("[data-testid=users-message]").TextContent));
        Assert.Empty(refused.FindAll("[data-testid=user-row]"));
        Assert.DoesNotContain("Mia", refused.Markup);
    }

    [Fact]
    public async Task The_users_page_lists_people_and_disables_them()
    {
        SignedInAs(Guid.NewGuid(), admin: true);
        var cut = Render<UsersPage>();
        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=user-row]").Count));
        var pat = cut.FindAll("[data-testid=user-row]").Single(r => r.TextContent.Contains("Pat Plain"));
        pat.QuerySelector("[data-testid=user-disable]")!.Click();

        cut.WaitForAssertion(() => Assert.EndsWith("Pat Plain is disabled; they had no open session.", cut.Find("[data-testid=users-message]").TextContent.Trim()));
        Assert.Equal("Disabled", cut.FindAll("[data-testid=user-row]").Single(r => r.TextContent.Contains("Pat Plain"))
            .QuerySelector("[data-testid=user-status]")!.TextContent.Trim());
        await using var db = await data.Contexts.CreateDbContextAsync();
        Assert.True(await db.Users.Where(u => u.Id == plain).Select(u => u.IsDisabled).SingleAsync());
        Assert.Single(await EventsAsync(), e => e.Action == AuditAction.UserDisabled && e.Outcome == AuditOutcome.Allowed);
    }

    [Theory]
    [InlineData("Download", "Allowed", "Granted by Pat Plain's own entry on /Projects (Browse, Download), inherited down to this folder.")]
    [InlineData("Upload", "Denied", "No entry for Pat Plain or their groups grants Upload on this folder or any folder above it.")]
    public void The_explain_page_answers_with_the_chain_of_reasons(string right, string answer, string reason)
    {
        SignedInAs(Guid.NewGuid(), admin: true);
        Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>()
            .NavigateTo($"/admin/explain?user={plain}&folder={alpha.Id}&right={right}");
        var cut = Render<ExplainPage>();

        cut.WaitForAssertion(() => Assert.True(cut.FindAll("[data-testid=explain-answer]").Count == 1, cut.Markup));
        Assert.Contains($"{answer}: Pat Plain", cut.Find("[data-testid=explain-answer]").TextContent);
        Assert.Contains(reason, cut.Find("[data-testid=explain-reasons]").TextContent);
    }

    [Fact]
    public void The_access_panel_shows_inherited_entries_and_where_inheritance_stops()
    {
        var access = new FolderAccess(alpha.Id, "/Projects/Alpha",
            [new PathFolder(projects.Id, "Projects", true), new PathFolder(alpha.Id, "Alpha", false)], 1,
            [new EntryOnPath(financeEntry, projects.Id, "/Projects", false, false, null, financeGroup, "finance", Rights.Browse)]);
        var cut = Render<AccessPanel>(p => p.Add(c => c.Access, access));

        Assert.Contains("This folder stops inheritance", cut.Find("[data-testid=inheritance-stopped]").TextContent);
        Assert.Contains("not inherited here", cut.Find("[data-testid=access-why]").TextContent);
    }
}
