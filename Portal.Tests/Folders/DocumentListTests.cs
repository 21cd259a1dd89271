using System.Security.Claims;
using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.App.Auth;
using Portal.App.Documents;
using Portal.App.Folders;
using Portal.Data.Audit;
using Portal.Data.Database;
using Portal.Data.Documents;
using Portal.Data.Permissions;
using Portal.Data.Users;
using Portal.Tests.Infrastructure;
using MudBlazor;
using MudBlazor.Services;

namespace Portal.Tests.Folders;

/// <summary>
/// The document list and the folder page's actions (bunit, real services on SQLite). An action method called for a
/// user without the right is refused by the service it calls, not only hidden.
/// </summary>
public sealed class DocumentListTests : BunitContext, IAsyncLifetime
{
    private DataServices data = null!;
    private Guid staffUser, managerUser, shared, other;
    private readonly List<Guid> documents = [];

    private sealed class FixedAntiforgery : Microsoft.AspNetCore.Components.Forms.AntiforgeryStateProvider
    {
        public override Microsoft.AspNetCore.Components.Forms.AntiforgeryRequestToken? GetAntiforgeryToken() => new("token", "__RequestVerificationToken");
    }

    public async Task InitializeAsync()
    {
        data = await DataServices.CreateAsync(DatabaseProvider.Sqlite);
        FolderPageServices.Add(Services, data);
        Services.AddMudServices();
        Services.AddSingleton<Microsoft.AspNetCore.Components.Forms.AntiforgeryStateProvider>(new FixedAntiforgery());
        JSInterop.Mode = JSRuntimeMode.Loose;

        await using var db = await data.Contexts.CreateDbContextAsync();
        (staffUser, managerUser) = (Guid.NewGuid(), Guid.NewGuid());
        db.Users.AddRange(new User { Id = staffUser, Issuer = "t", Subject = "staff", DisplayName = "Sam" },
                          new User { Id = managerUser, Issuer = "t", Subject = "manager", DisplayName = "Mia" });
        var sharedFolder = Scenario.NewFolder("Shared");
        var otherFolder = Scenario.NewFolder("Other");
        db.Folders.AddRange(sharedFolder, otherFolder);
        (shared, other) = (sharedFolder.Id, otherFolder.Id);
        db.PermissionEntries.AddRange(
            new PermissionEntry { Id = Guid.NewGuid(), FolderId = shared, UserId = staffUser, Rights = Rights.Browse | Rights.Download },
            new PermissionEntry { Id = Guid.NewGuid(), FolderId = shared, UserId = managerUser, Rights = Rights.All },
            new PermissionEntry { Id = Guid.NewGuid(), FolderId = other, UserId = managerUser, Rights = Rights.All });
        // 120 documents: more than two pages; "Équipe" must sort among the e's, not after z.
        for (var i = 0; i < 119; i++)
        {
            var doc = Doc($"Report {i:000}.pdf", size: 1000 + (i * 37 % 119));
            db.Documents.Add(doc);
            documents.Add(doc.Id);
        }
        db.Documents.Add(Doc("Équipe.txt", size: 5));
        await db.SaveChangesAsync();
    }

    private Document Doc(string name, long size) => new()
    {
        Id = Guid.NewGuid(), FolderId = shared, DisplayName = name, ContentHash = new string('a', 64), Size = size, ContentType = "application/pdf",
    };

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await data.DisposeAsync();
    }

    private void SignInAs(Guid userId, bool admin = false)
    {
        var auth = AddAuthorization();
        // As on the circuit (opening a folder is audited there, not during prerendering).
        Renderer.SetRendererInfo(new Microsoft.AspNetCore.Components.RendererInfo("Server", isInteractive: true));
        auth.SetAuthorized("someone");
        auth.SetClaims(new Claim(PortalClaims.UserId, userId.ToString()));
        if (admin) auth.SetRoles(PortalRoles.Admin);
    }

    // Menus and dialogs render in the providers, as in the layout.
    private IRenderedComponent<MudPopoverProvider> popovers = null!;
    private IRenderedComponent<MudDialogProvider> dialogs = null!;

    private IRenderedComponent<FolderContents> RenderFolder(Guid userId, Guid folderId)
    {
        SignInAs(userId);
        popovers = Render<MudPopoverProvider>();
        dialogs = Render<MudDialogProvider>();
        var cut = Render<FolderContents>(p => p.Add(c => c.FolderId, folderId));
        cut.WaitForAssertion(() => Assert.NotEmpty(Names(cut)));
        return cut;
    }

    private static List<string> Names(IRenderedComponent<FolderContents> cut) =>
        cut.FindAll("[data-testid=document-name]").Select(e => e.TextContent.Trim()).ToList();

    private Task<List<AuditEvent>> DeniedAsync() => data.Contexts.CreateDbContext().AuditEvents.AsNoTracking().Where(e => e.Outcome == AuditOutcome.Denied).ToListAsync();

    [Fact]
    public void The_first_page_shows_fifty_of_120_documents_in_name_order_with_the_total()
    {
        var cut = RenderFolder(staffUser, shared);

        var names = Names(cut);
        Assert.Equal(FolderContents.PageSize, names.Count);
        Assert.Equal(["Équipe.txt", "Report 000.pdf", "Report 001.pdf"], names.Take(3));
        Assert.Equal("Report 048.pdf", names[^1]);
        Assert.Contains("of 120", cut.Find("[data-testid=page-summary]").TextContent);
    }

    [Fact]
    public void The_size_order_and_the_next_page_come_from_the_server()
    {
        var cut = RenderFolder(staffUser, shared);

        cut.Find("[data-testid=sort-size]").Click();
        cut.WaitForAssertion(() => Assert.Equal("Équipe.txt", Names(cut)[0])); // 5 bytes: the smallest

        // Sizes are 1000 + (i * 37 % 119), all different: the 51st smallest (first of page 2) is 1049 bytes.
        var expected = $"Report {Enumerable.Range(0, 119).Single(i => i * 37 % 119 == 49):000}.pdf";
        cut.FindAll("[data-testid=pager] button").First(b => b.TextContent.Trim() == "2").Click();
        cut.WaitForAssertion(() => Assert.Equal(expected, Names(cut)[0]));
        Assert.Equal(FolderContents.PageSize, Names(cut).Count);
    }

    [Fact]
    public void Staff_see_no_change_buttons()
    {
        var cut = RenderFolder(staffUser, shared);
        Assert.Empty(cut.FindAll("[data-testid=folder-actions]"));
        Assert.Empty(cut.FindAll("[data-testid=upload]"));
    }

    private IReadOnlyList<string> RowMenu(IRenderedComponent<FolderContents> cut, int row)
    {
        cut.FindAll("[data-testid=row-menu] button")[row].Click();
        popovers.WaitForAssertion(() => Assert.NotEmpty(popovers.FindAll("[data-testid=document-versions]")));
        return popovers.FindAll(".mud-popover-open [data-testid]").Select(e => e.GetAttribute("data-testid")!).Where(id => id != "menu-wrapper").Distinct().ToList();
    }

    [Fact]
    public void A_row_menu_offers_staff_only_what_their_rights_allow()
    {
        var cut = RenderFolder(staffUser, shared);
        // Browse and Download on a PDF: open, download and versions; nothing that changes it.
        Assert.Equal(["open-link", "download-link", "document-versions"], RowMenu(cut, 1));
    }

    [Fact]
    public void A_row_menu_offers_a_manager_rename_move_and_delete()
    {
        var cut = RenderFolder(managerUser, shared);
        Assert.Equal(["open-link", "download-link", "document-versions", "rename-document", "move-document", "delete-document"], RowMenu(cut, 1));
    }

    [Fact]
    public async Task Every_action_method_called_for_staff_is_refused_by_the_service_and_changes_nothing()
    {
        var cut = RenderFolder(staffUser, shared);
        var doc = documents[0];
        async Task<string> Refused(Func<FolderContents, Task> action)
        {
            await cut.InvokeAsync(() => action(cut.Instance));
            return cut.WaitForElement("[data-testid=action-message]").TextContent;
        }

        Assert.Contains("You may not do that here", await Refused(c => c.RenameDocumentAsync(doc, "Hacked.pdf")));
        Assert.Contains("You may not do that here", await Refused(c => c.MoveDocumentAsync(doc, other)));
        Assert.Contains("You may not do that here", await Refused(c => c.DeleteDocumentAsync(doc)));
        Assert.Contains("You may not do that here", await Refused(c => c.CreateFolderAsync("Sneaky")));
        Assert.Contains("You may not do that here", await Refused(c => c.RenameFolderAsync("Renamed")));
        Assert.Contains("You may not do that here", await Refused(c => c.MoveFolderAsync(other)));
        Assert.Contains("You may not do that here", await Refused(c => c.DeleteFolderAsync(true, null)));

        await using var db = await data.Contexts.CreateDbContextAsync();
        var stored = await db.Documents.AsNoTracking().SingleAsync(d => d.Id == doc);
        Assert.Equal(("Report 000.pdf", shared, false), (stored.DisplayName, stored.FolderId, stored.IsDeleted));
        Assert.Equal(["Other", "Shared"], await db.Folders.Where(f => !f.IsDeleted).Select(f => f.Name).OrderBy(n => n).ToListAsync());
        Assert.Equal(7, (await DeniedAsync()).Count);
    }

    [Fact]
    public async Task The_bin_and_top_level_folder_actions_refuse_a_user_who_is_not_an_admin()
    {
        SignInAs(managerUser);
        var manager = new Caller(new ClaimsPrincipal(new ClaimsIdentity([new Claim(PortalClaims.UserId, managerUser.ToString())], "test")));
        var deletion = (await Services.GetRequiredService<DocumentOperations>().DeleteAsync(manager, documents[1])).Id!.Value;

        Render<MudPopoverProvider>();
        var bin = Render<BinPage>();
        await bin.InvokeAsync(() => bin.Instance.RestoreAsync(deletion));
        Assert.Contains("Only administrators restore", bin.Find("[data-testid=action-message]").TextContent);
        await bin.InvokeAsync(() => bin.Instance.EmptyAsync(null));
        Assert.Contains("Only administrators empty", bin.Find("[data-testid=action-message]").TextContent);

        var top = Render<NewTopLevelFolder>();
        await top.InvokeAsync(() => top.Instance.CreateAsync());

        await using var db = await data.Contexts.CreateDbContextAsync();
        Assert.True((await db.Documents.SingleAsync(d => d.Id == documents[1])).IsDeleted); // still in the bin, not restored nor gone
        Assert.Equal(2, await db.Folders.CountAsync());
        Assert.Equal(3, (await DeniedAsync()).Count);
    }

    [Fact]
    public async Task A_manager_renames_and_deletes_through_the_list_and_it_shows_at_once()
    {
        var cut = RenderFolder(managerUser, shared);

        await cut.InvokeAsync(() => cut.Instance.RenameDocumentAsync(documents[0], "Aardvark.pdf"));
        cut.WaitForAssertion(() => Assert.Equal("Aardvark.pdf", Names(cut)[0]));
        await cut.InvokeAsync(() => cut.Instance.DeleteDocumentAsync(documents[0]));
        cut.WaitForAssertion(() => Assert.Equal("Équipe.txt", Names(cut)[0]));
        Assert.Contains("moved to the bin", cut.Find("[data-testid=action-message]").TextContent);
    }

    [Fact]
    public async Task Deleting_a_folder_asks_first_in_a_dialog_that_names_it_and_counts_what_goes_to_the_bin()
    {
        var cut = RenderFolder(managerUser, shared);
        cut.Find("[data-testid=delete-folder]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("\"Shared\" holds 0 folder(s) and 120 document(s)", dialogs.Find("[data-testid=delete-question]").TextContent));
        Assert.Contains("Shared", dialogs.Find("[data-testid=dialog-title]").TextContent);
        await using (var db = await data.Contexts.CreateDbContextAsync())
            Assert.False((await db.Folders.SingleAsync(f => f.Id == shared)).IsDeleted); // asked, not done

        dialogs.Find("[data-testid=cancel-delete]").Click();
        dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("[data-testid=delete-question]")));
        await using (var db = await data.Contexts.CreateDbContextAsync())
            Assert.False((await db.Folders.SingleAsync(f => f.Id == shared)).IsDeleted);
    }

    [Fact]
    public async Task Enter_in_the_rename_dialog_renames_the_document_it_names()
    {
        var cut = RenderFolder(managerUser, shared);
        RowMenu(cut, 1);
        popovers.Find("[data-testid=rename-document]").Click();
        dialogs.WaitForAssertion(() => Assert.Contains("Rename \"Report 000.pdf\"", dialogs.Find("[data-testid=dialog-title]").TextContent));
        dialogs.Find("[data-testid=action-name] input, input[data-testid=action-name]").Input("Aardvark.pdf");
        dialogs.Find("form").Submit(); // what Enter in the field does
        cut.WaitForAssertion(() => Assert.Equal("Aardvark.pdf", Names(cut)[0]));
        await using var db = await data.Contexts.CreateDbContextAsync();
        Assert.Equal("Aardvark.pdf", (await db.Documents.SingleAsync(d => d.Id == documents[0])).DisplayName);
    }
}
