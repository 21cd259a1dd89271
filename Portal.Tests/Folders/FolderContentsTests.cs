using System.Security.Claims;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Portal.App.Auth;
using Portal.App.Folders;
using Portal.Data.Database;
using Portal.Data.Documents;
using Portal.Data.Permissions;
using Portal.Data.Users;
using Portal.Tests.Infrastructure;
using MudBlazor;
using MudBlazor.Services;

namespace Portal.Tests.Folders;

/// <summary>The folder view (bunit, real rules on SQLite): a user sees what they may see, and nothing else.</summary>
public sealed class FolderContentsTests : BunitContext, IAsyncLifetime
{
    private DataServices data = null!;
    private Guid staffUser, otherUser;
    private Guid sharedFolder, viewOnlyFolder, hiddenFolder, uploadFolder, archiveFolder;

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
        JSInterop.Mode = JSRuntimeMode.Loose; // MudBlazor calls into JS; nothing here depends on the answers

        await using var db = await data.Contexts.CreateDbContextAsync();
        staffUser = Guid.NewGuid(); otherUser = Guid.NewGuid();
        db.Users.AddRange(new User { Id = staffUser, Issuer = "t", Subject = "staff", DisplayName = "Sam" },
                          new User { Id = otherUser, Issuer = "t", Subject = "other", DisplayName = "Olga" });
        var shared = Scenario.NewFolder("Shared");
        var viewOnly = Scenario.NewFolder("View only");
        var hidden = Scenario.NewFolder("Hidden");
        // Under Shared: one subfolder Sam may browse (inherited), one closed to him (inheritance off, no entry for him).
        var archive = Scenario.NewFolder("Archive", shared);
        var board = Scenario.NewFolder("Board only", shared);
        board.InheritPermissions = false;
        var drafts = Scenario.NewFolder("Drafts", shared);
        archiveFolder = archive.Id;
        db.Folders.AddRange(shared, viewOnly, hidden, archive, board, drafts);
        (sharedFolder, viewOnlyFolder, hiddenFolder) = (shared.Id, viewOnly.Id, hidden.Id);
        db.PermissionEntries.AddRange(
            new PermissionEntry { Id = Guid.NewGuid(), FolderId = shared.Id, UserId = staffUser, Rights = Rights.Browse | Rights.Download },
            new PermissionEntry { Id = Guid.NewGuid(), FolderId = viewOnly.Id, UserId = staffUser, Rights = Rights.Browse },
            new PermissionEntry { Id = Guid.NewGuid(), FolderId = hidden.Id, UserId = otherUser, Rights = Rights.All });
        uploadFolder = shared.Id;
        db.Documents.AddRange(
            Doc(shared.Id, "Handbook.pdf"), Doc(shared.Id, "Holidays 2026.xlsx"),
            Doc(viewOnly.Id, "Org chart.png"),
            Doc(hidden.Id, "Salaries.xlsx"),
            Doc(shared.Id, "Old draft.docx", deleted: true));
        await db.SaveChangesAsync();
    }

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await data.DisposeAsync();
    }

    private static Document Doc(Guid folder, string name, bool deleted = false) => new()
    {
        Id = Guid.NewGuid(), FolderId = folder, DisplayName = name, ContentHash = new string('a', 64), Size = 2048,
        ContentType = "application/octet-stream", IsDeleted = deleted,
    };

    private IRenderedComponent<FolderContents> RenderAs(Guid userId, Guid folderId)
    {
        var auth = AddAuthorization();
        auth.SetAuthorized("someone");
        auth.SetClaims(new Claim(PortalClaims.UserId, userId.ToString()));
        Renderer.SetRendererInfo(new Microsoft.AspNetCore.Components.RendererInfo("Server", isInteractive: true));
        Render<MudPopoverProvider>();
        return Render<FolderContents>(p => p.Add(c => c.FolderId, folderId));
    }

    private static IReadOnlyList<string> ListedNames(IRenderedComponent<FolderContents> cut) =>
        cut.FindAll("[data-testid=document-name]").Select(e => e.TextContent.Trim()).ToList();

    [Fact]
    public void Lists_the_subfolders_the_user_may_browse_first_then_the_documents_each_name_a_link()
    {
        var cut = RenderAs(staffUser, sharedFolder);

        cut.WaitForAssertion(() => Assert.Equal(["Handbook.pdf", "Holidays 2026.xlsx"], ListedNames(cut)));
        var rows = cut.FindAll("tbody tr").Select(r => (r.GetAttribute("data-testid"), r.QuerySelector("td")!.TextContent.Trim())).ToList();
        Assert.Equal([("subfolder-row", "Archive"), ("subfolder-row", "Drafts"), ("document-row", "Handbook.pdf"), ("document-row", "Holidays 2026.xlsx")], rows);
        Assert.DoesNotContain("Board only", cut.Markup); // not browsable: never named
        // A name opens the document: a download for these types, through the link the server checks.
        Assert.All(cut.FindAll("[data-testid=document-name]"), a => Assert.Equal("A", a.TagName));
        Assert.Equal($"/folders/{archiveFolder}", cut.FindAll("[data-testid=subfolder-name]")[0].GetAttribute("href"));
        Assert.Equal("Shared", cut.Find("[data-testid=folder-title]").TextContent.Trim());
    }

    [Fact]
    public void Browse_without_download_lists_documents_but_their_names_open_nothing()
    {
        var cut = RenderAs(staffUser, viewOnlyFolder);

        cut.WaitForAssertion(() => Assert.Equal(["Org chart.png"], ListedNames(cut)));
        Assert.Equal("SPAN", cut.Find("[data-testid=document-name]").TagName);
        Assert.Contains("No download", cut.Find("[data-testid=document-row]").TextContent);
    }

    [Fact]
    public void A_folder_the_user_may_not_browse_lists_nothing()
    {
        var cut = RenderAs(staffUser, hiddenFolder);

        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=folder-denied]")));
        Assert.Empty(ListedNames(cut));
        Assert.DoesNotContain("Salaries", cut.Markup);
    }

    [Fact]
    public void The_same_folder_shows_its_documents_to_the_user_who_was_granted_it()
    {
        var cut = RenderAs(otherUser, hiddenFolder);
        cut.WaitForAssertion(() => Assert.Equal(["Salaries.xlsx"], ListedNames(cut)));
    }

    [Fact]
    public void No_upload_control_without_the_upload_right()
    {
        var cut = RenderAs(staffUser, uploadFolder);
        cut.WaitForAssertion(() => Assert.Equal(2, ListedNames(cut).Count));
        Assert.Empty(cut.FindAll("[data-testid=upload]"));
    }

    [Fact]
    public void The_upload_control_appears_with_the_upload_right()
    {
        var cut = RenderAs(otherUser, hiddenFolder); // Rights.All includes Upload
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("[data-testid=upload]")));
    }

    [Fact]
    public void An_unknown_folder_says_so()
    {
        var cut = RenderAs(staffUser, Guid.NewGuid());
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=folder-missing]")));
    }
}
