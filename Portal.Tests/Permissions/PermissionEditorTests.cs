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
using MudBlazor;
using MudBlazor.Services;

namespace Portal.Tests.Permissions;

/// <summary>
/// The permission editor, the explain page and the users page on MudBlazor (bunit, real rules and audit log on SQLite).
/// Each action is checked on the server at the moment of the click: a person who loses Manage after the page opened is
/// refused. The picker's list and the confirmation dialogs render in MudBlazor's providers, as in the layout.
/// </summary>
public sealed class PermissionEditorTests : BunitContext, IAsyncLifetime
{
    private DataServices data = null!;
    private Guid manager, plain, sam, financeGroup;
    private IRenderedComponent<MudPopoverProvider> popovers = null!;
    private IRenderedComponent<MudDialogProvider> dialogs = null!;
    private Folder projects = null!, alpha = null!;
    private Guid managerEntry, financeEntry;

    public async Task InitializeAsync()
    {
        data = await DataServices.CreateAsync(DatabaseProvider.Sqlite);
        Services.AddSingleton(new PermissionAdministration(data.Contexts, data.Permissions, data.Audit, TimeProvider.System, new PermissionGrantLock(), NullLogger<PermissionAdministration>.Instance));
        Services.AddSingleton(new UserAdministration(data.Contexts, new SessionStore(data.Contexts, TimeProvider.System), data.Audit, TimeProvider.System, NullLogger<UserAdministration>.Instance));
        Services.AddSingleton(new Portal.App.Folders.FolderCatalog(data.Contexts, data.Permissions));
        Services.AddMudServices();
        Services.AddScoped<Portal.App.Components.ClientConnection>(); // where a change came from (none here: no circuit)
        JSInterop.Mode = JSRuntimeMode.Loose;

        await using var db = await data.Contexts.CreateDbContextAsync();
        manager = Guid.NewGuid(); plain = Guid.NewGuid(); sam = Guid.NewGuid(); financeGroup = Guid.NewGuid();
        db.Users.AddRange(new User { Id = manager, Issuer = "t", Subject = "mia", DisplayName = "Mia Manager", Email = "mia@example.org", EmailVerified = true },
                          new User { Id = plain, Issuer = "t", Subject = "pat", DisplayName = "Pat Plain", Email = "pat@example.org", EmailVerified = true },
                          new User { Id = sam, Issuer = "t", Subject = "sam", DisplayName = "Sam Staff", Email = "sam@example.org", EmailVerified = true },
                          new User { Id = Guid.NewGuid(), Issuer = "t", Subject = "sal", DisplayName = "Sally Samson", Email = "sally@example.org", EmailVerified = true });
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
        // The role as the portal's cookie carries it: a role claim (ClaimTypes.Role) next to the user id.
        if (admin) auth.SetRoles(PortalRoles.Admin);
        auth.SetClaims(new Claim(PortalClaims.UserId, userId.ToString()));
        // The providers the layout renders: the picker's list and the dialogs appear in them.
        popovers = Render<MudPopoverProvider>();
        dialogs = Render<MudDialogProvider>();
    }

    private IRenderedComponent<PermissionEditor> Editor(Guid userId, Guid folderId, bool admin = false)
    {
        SignedInAs(userId, admin);
        var cut = Render<PermissionEditor>(p => p.Add(c => c.FolderId, folderId));
        cut.WaitForAssertion(() => Assert.True(cut.FindAll("[data-testid=permission-editor]").Count + cut.FindAll("[data-testid=editor-refused]").Count == 1));
        return cut;
    }

    private static IElement Row(IRenderedComponent<PermissionEditor> cut, string principal) =>
        cut.FindAll("tr.entry-row").Single(r => r.QuerySelector("[data-testid=entry-principal]")!.TextContent.Contains(principal));

    private static IReadOnlyList<IElement> OwnRows(IRenderedComponent<PermissionEditor> cut) => cut.FindAll("tr.entry-row:not(.entry-inherited)");

    /// <summary>Types into the picker and waits for its list (the search runs on the server after a short pause).</summary>
    private void Type(IRenderedComponent<PermissionEditor> cut, string text)
    {
        cut.Find("input[data-testid=new-principal]").Input(text);
        popovers.WaitForAssertion(() => Assert.True(
            popovers.FindAll("[data-testid=principal-option]").Count + popovers.FindAll("[data-testid=no-principal-match]").Count > 0, popovers.Markup),
            TimeSpan.FromSeconds(10));
    }

    /// <summary>Confirms (or cancels) the dialog that opened, after checking it names what it acts on.</summary>
    private void Answer(string names, bool confirm)
    {
        dialogs.WaitForAssertion(() => Assert.Contains(names, dialogs.Find("[data-testid=confirm-message]").TextContent));
        dialogs.Find(confirm ? "[data-testid=confirm-yes]" : "[data-testid=confirm-no]").Click();
    }

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

        Assert.Equal(3, OwnRows(cut).Count);
        var finance = Row(cut, "finance");
        Assert.StartsWith("Group:", finance.QuerySelector("[data-testid=entry-principal]")!.TextContent.Trim());
        Assert.True(finance.QuerySelector("[data-testid=entry-Browse]")!.HasAttribute("checked"));
        Assert.False(finance.QuerySelector("[data-testid=entry-Download]")!.HasAttribute("checked"));
        Assert.True(Row(cut, "Mia Manager").QuerySelector("[data-testid=entry-Manage]")!.HasAttribute("checked"));
        Assert.True(cut.Find("[data-testid=inherit-toggle]").HasAttribute("disabled")); // a top-level folder
        // One table, Material controls only: no native select beside them, every checkbox is MudBlazor's.
        Assert.Empty(cut.FindAll("select"));
        Assert.All(cut.FindAll("input[type=checkbox]"), c => Assert.Contains("mud-checkbox-input", c.ClassName));
        Assert.Single(cut.FindAll("table"));
    }

    [Fact]
    public void Inherited_entries_are_greyed_read_only_and_name_the_folder_they_come_from()
    {
        var cut = Editor(manager, alpha.Id);

        Assert.Empty(OwnRows(cut));
        var inherited = cut.FindAll("tr.entry-inherited");
        Assert.Equal(3, inherited.Count);
        var finance = Row(cut, "finance");
        Assert.Contains("entry-inherited", finance.ClassName);
        Assert.All(finance.QuerySelectorAll("input[type=checkbox]"), c => Assert.True(c.HasAttribute("disabled")));
        Assert.True(finance.QuerySelector("[data-testid=entry-Browse]")!.HasAttribute("checked"));
        var source = finance.QuerySelector("[data-testid=entry-source-link]")!;
        Assert.Equal("/Projects", source.TextContent.Trim());
        Assert.Equal($"/folders/{projects.Id}/access", source.GetAttribute("href"));
        Assert.Empty(finance.QuerySelectorAll("[data-testid=entry-save], [data-testid=entry-revoke]"));
        // Explain is for admins only (issue #25): a folder manager gets no link to it.
        Assert.Empty(cut.FindAll("[data-testid=entry-explain]"));
    }

    [Fact]
    public void An_admin_can_explain_each_row_in_one_click()
    {
        var cut = Editor(Guid.NewGuid(), alpha.Id, admin: true);
        Assert.Equal($"/admin/explain?user={plain}&folder={alpha.Id}",
            Row(cut, "Pat Plain").QuerySelector("[data-testid=entry-explain]")!.GetAttribute("href"));
        Assert.Equal($"/admin/explain?folder={alpha.Id}", Row(cut, "finance").QuerySelector("[data-testid=entry-explain]")!.GetAttribute("href"));
    }

    [Fact]
    public async Task A_person_picked_by_name_from_the_autocomplete_is_granted_on_the_server()
    {
        var cut = Editor(manager, alpha.Id);
        Type(cut, "sam st");
        var option = popovers.FindAll("[data-testid=principal-option]").Single(); // Sally Samson does not match "sam st"
        Assert.Equal("Sam Staff (sam@example.org)", option.TextContent.Trim());
        option.Closest(".mud-list-item")!.Click();
        cut.WaitForAssertion(() => Assert.Equal("Sam Staff (sam@example.org)", cut.Find("input[data-testid=new-principal]").GetAttribute("value")));
        cut.Find("[data-testid=new-Upload]").Change(true);
        cut.Find("[data-testid=grant]").Click();

        cut.WaitForAssertion(() => Assert.Contains("Granted Browse, Download, Upload to Sam Staff", cut.Find("[data-testid=editor-message]").TextContent));
        Assert.True(Row(cut, "Sam Staff").QuerySelector("[data-testid=entry-Upload]")!.HasAttribute("checked"));
        await using var db = await data.Contexts.CreateDbContextAsync();
        Assert.Equal(Rights.Browse | Rights.Download | Rights.Upload,
            await db.PermissionEntries.Where(p => p.FolderId == alpha.Id && p.UserId == sam).Select(p => p.Rights).SingleAsync());
        var granted = Assert.Single(await EventsAsync(), e => e.Action == AuditAction.PermissionGranted);
        Assert.Equal(manager, granted.ActorUserId);
        Assert.Equal(sam.ToString(), JsonDocument.Parse(granted.Changes!).RootElement.GetProperty("after").GetProperty("principalId").GetString());
    }

    [Fact]
    public async Task A_name_typed_in_full_without_picking_is_granted_too()
    {
        // "Sam Staff" by name was answered "No user "Sam Staff" is known ... ask them to sign in once".
        var cut = Editor(manager, alpha.Id);
        cut.Find("input[data-testid=new-principal]").Input("Sam Staff");
        cut.Find("[data-testid=grant]").Click();

        cut.WaitForAssertion(() => Assert.Contains("Granted Browse, Download to Sam Staff", cut.Find("[data-testid=editor-message]").TextContent));
        await using var db = await data.Contexts.CreateDbContextAsync();
        Assert.True(await db.PermissionEntries.AnyAsync(p => p.FolderId == alpha.Id && p.UserId == sam));
    }

    [Fact]
    public async Task Granting_to_a_group_picked_from_the_list_stores_the_entry_shows_it_and_records_it()
    {
        var cut = Editor(manager, projects.Id);
        Type(cut, "STA"); // case does not matter; "staff" the group and Sam Staff the person both match
        var options = popovers.FindAll("[data-testid=principal-option]");
        Assert.Equal(["Group: staff", "Sam Staff (sam@example.org)"], options.Select(o => o.TextContent.Trim()));
        options[0].Closest(".mud-list-item")!.Click();
        cut.WaitForAssertion(() => Assert.Equal("Group: staff", cut.Find("input[data-testid=new-principal]").GetAttribute("value")));
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
        cut.Find("input[data-testid=new-principal]").Input("pat@example.org");
        cut.Find("[data-testid=grant]").Click();

        cut.WaitForAssertion(() => Assert.Single(OwnRows(cut)));
        Assert.Contains("Pat Plain", OwnRows(cut)[0].QuerySelector("[data-testid=entry-principal]")!.TextContent);
        await using var db = await data.Contexts.CreateDbContextAsync();
        Assert.True(await db.PermissionEntries.AnyAsync(p => p.FolderId == alpha.Id && p.UserId == plain && p.Rights == (Rights.Browse | Rights.Download)));
    }

    [Fact]
    public async Task When_nothing_matches_the_picker_and_the_grant_say_what_was_searched_and_nothing_is_stored()
    {
        var cut = Editor(manager, projects.Id);
        Type(cut, "sam x");
        Assert.Equal("No person or group matches “sam x”.", popovers.Find("[data-testid=no-principal-match]").TextContent.Trim());
        Assert.Empty(popovers.FindAll("[data-testid=principal-option]"));

        cut.Find("input[data-testid=new-principal]").Input("finanse");
        cut.Find("[data-testid=grant]").Click();
        cut.WaitForAssertion(() => Assert.Equal("No person or group matches “finanse”.", cut.Find("[data-testid=editor-message]").TextContent.Trim()));
        Assert.Equal(3, OwnRows(cut).Count);
        Assert.DoesNotContain(await EventsAsync(), e => e.Action == AuditAction.PermissionGranted);
    }

    [Fact]
    public async Task Only_someone_who_may_manage_the_folder_can_search_for_people()
    {
        var admin = new PermissionAdministration(data.Contexts, data.Permissions, data.Audit, TimeProvider.System, new PermissionGrantLock(), NullLogger<PermissionAdministration>.Instance);
        var manages = await admin.SearchPrincipalsAsync(Caller(manager), projects.Id, "pat");
        Assert.Equal(["Pat Plain"], manages.Value!.Select(m => m.Name));
        Assert.Equal(["finance"], (await admin.SearchPrincipalsAsync(Caller(manager), projects.Id, "FIN")).Value!.Select(m => m.Name));
        Assert.Equal(["Mia Manager"], (await admin.SearchPrincipalsAsync(Caller(manager), projects.Id, "mia@")).Value!.Select(m => m.Name)); // by e-mail

        var refused = await admin.SearchPrincipalsAsync(Caller(plain), projects.Id, "pat");
        Assert.Equal(Portal.App.Permissions.AdminOutcome.Forbidden, refused.Outcome);
        Assert.Null(refused.Value);
    }

    [Fact]
    public async Task Explaining_is_for_admins_only_and_a_refusal_is_recorded()
    {
        var admin = new PermissionAdministration(data.Contexts, data.Permissions, data.Audit, TimeProvider.System, new PermissionGrantLock(), NullLogger<PermissionAdministration>.Instance);
        // Mia manages Projects, but may not read Pat's groups and roles through "explain".
        var refused = await admin.ExplainAsync(Caller(manager), plain, projects.Id);
        Assert.Equal(Portal.App.Permissions.AdminOutcome.Forbidden, refused.Outcome);
        Assert.Null(refused.Value);
        var e = Assert.Single(await EventsAsync());
        Assert.Equal((AuditAction.AccessRefused, AuditOutcome.Denied, manager), (e.Action, e.Outcome, e.ActorUserId));

        Assert.True((await admin.ExplainAsync(Caller(Guid.NewGuid(), admin: true), plain, projects.Id)).Succeeded);
    }

    private static ClaimsPrincipal Caller(Guid userId, bool admin = false) => new(new ClaimsIdentity(admin
        ? [new Claim(PortalClaims.UserId, userId.ToString()), new Claim(ClaimTypes.Role, PortalRoles.Admin)]
        : [new Claim(PortalClaims.UserId, userId.ToString())], "test"));

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
    public async Task Remove_asks_first_naming_the_entry_and_revokes_it_only_when_confirmed()
    {
        var cut = Editor(manager, projects.Id);
        Row(cut, "finance").QuerySelector("[data-testid=entry-revoke]")!.Click();
        Answer("the group finance loses Browse on /Projects", confirm: false);
        dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("[data-testid=confirm-message]")));
        Assert.Equal(Rights.Browse, await StoredRightsAsync(financeEntry));

        Row(cut, "finance").QuerySelector("[data-testid=entry-revoke]")!.Click();
        Answer("the group finance loses Browse on /Projects", confirm: true);

        cut.WaitForAssertion(() => Assert.Equal(2, OwnRows(cut).Count));
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
        // The projects entries no longer reach Alpha: still listed, greyed, saying why.
        cut.WaitForAssertion(() => Assert.Contains("This folder stops inheritance", cut.Find("[data-testid=inheritance-stopped]").TextContent));
        Assert.Contains("not inherited here", Row(cut, "finance").QuerySelector("[data-testid=entry-source]")!.TextContent);
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
        Answer("the group finance", confirm: true);

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
        Assert.Empty(refused.FindAll("tr.user-row"));
        Assert.DoesNotContain("Mia", refused.Markup);
    }

    [Fact]
    public async Task The_users_page_lists_people_and_disables_them_after_asking()
    {
        SignedInAs(Guid.NewGuid(), admin: true);
        var cut = Render<UsersPage>();
        cut.WaitForAssertion(() => Assert.Equal(4, cut.FindAll("tr.user-row").Count));
        IElement Pat() => cut.FindAll("tr.user-row").Single(r => r.TextContent.Contains("Pat Plain"));
        Pat().QuerySelector("[data-testid=user-disable]")!.Click();
        Answer("Pat Plain cannot sign in until enabled again.", confirm: true);

        cut.WaitForAssertion(() => Assert.EndsWith("Pat Plain is disabled; they had no open session.", cut.Find("[data-testid=users-message]").TextContent.Trim()));
        Assert.Equal("Disabled", Pat().QuerySelector("[data-testid=user-status]")!.TextContent.Trim());
        await using var db = await data.Contexts.CreateDbContextAsync();
        Assert.True(await db.Users.Where(u => u.Id == plain).Select(u => u.IsDisabled).SingleAsync());
        Assert.Single(await EventsAsync(), e => e.Action == AuditAction.UserDisabled && e.Outcome == AuditOutcome.Allowed);
    }

    [Theory]
    [InlineData("Download", "Allowed", "Granted by Pat Plain's own entry on /Projects (Browse, Download), inherited down to this folder.")]
    [InlineData("Upload", "Denied", "No entry for Pat Plain or their groups grants Upload on this folder or any folder above it.")]
    public void The_explain_page_answers_from_the_address_with_the_chain_of_reasons(string right, string answer, string reason)
    {
        SignedInAs(Guid.NewGuid(), admin: true);
        Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>()
            .NavigateTo($"/admin/explain?user={plain}&folder={alpha.Id}&right={right}");
        var cut = Render<ExplainPage>();

        cut.WaitForAssertion(() => Assert.True(cut.FindAll("[data-testid=explain-answer]").Count == 1, cut.Markup));
        Assert.Contains($"{answer}: Pat Plain", cut.Find("[data-testid=explain-answer]").TextContent);
        Assert.Contains(reason, cut.Find("[data-testid=explain-reasons]").TextContent);
        // The choices show what the address says.
        Assert.Equal("Pat Plain (pat@example.org)", cut.Find("input[data-testid=explain-user]").GetAttribute("value"));
    }

    [Fact]
    public void The_access_panel_shows_inherited_entries_and_where_inheritance_stops()
    {
        var access = new FolderAccess(alpha.Id, "/Projects/Alpha",
            [new PathFolder(projects.Id, "Projects", true), new PathFolder(alpha.Id, "Alpha", false)], 1,
            [new EntryOnPath(financeEntry, projects.Id, "/Projects", false, false, null, financeGroup, "finance", Rights.Browse)]);
        var cut = Render<AccessPanel>(p => p.Add(c => c.Access, access));

        cut.WaitForAssertion(() => Assert.Contains("This folder stops inheritance", cut.Find("[data-testid=inheritance-stopped]").TextContent));
        Assert.Contains("not inherited here", cut.Find("[data-testid=access-why]").TextContent);
    }
}
