using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using Portal.App.Audit;
using Portal.App.Auth;
using Portal.Data.Audit;
using Portal.Data.Database;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Audit;

/// <summary>
/// The audit page's parts with MudBlazor (bunit, the real queries on SQLite): the grid lists what the query returns, and
/// a click on a row opens the event's drawer with who did what, the outcome and the target.
/// </summary>
public sealed class AuditPageComponentTests : BunitContext, IAsyncLifetime
{
    private DataServices data = null!;
    private readonly Guid staff = Guid.NewGuid(), folder = Guid.NewGuid(), document = Guid.NewGuid();

    public async Task InitializeAsync()
    {
        data = await DataServices.CreateAsync(DatabaseProvider.Sqlite);
        Services.AddMudServices();
        JSInterop.Mode = JSRuntimeMode.Loose; // MudBlazor's popovers and drawer call into JS; nothing here depends on the answers
        Services.AddSingleton(new AuditQueries(data.Contexts));
        Services.AddSingleton(data.Audit);
        Services.AddSingleton(data.Contexts);
        Services.AddSingleton(new AuditCheckpointSigner(null));
        Services.AddSingleton(new AuditChainCheck(data.Contexts, new AuditCheckpointSigner(null),
            new AuditSigningKeys(AuditHeadSigner.FromPem(AuditHeadSigner.NewPrivateKeyPem())), []));
        Services.AddScoped<Portal.App.Components.ClientConnection>();
        Services.AddSingleton(TimeProvider.System);

        await data.Audit.AppendAsync(new AuditEvent
        {
            Action = AuditAction.DocumentDownloaded, Outcome = AuditOutcome.Allowed, ActorUserId = staff, ActorDisplayName = "Sam Staff",
            DocumentId = document, FolderId = folder, TargetPath = "/Shared", TargetName = "Café menu.pdf", ClientIp = "10.0.0.7",
            FetchSite = "same-origin",
        });
        // A refused folder open names the folder it was about, as the backend records it.
        await data.Audit.AppendAsync(new AuditEvent
        {
            Action = AuditAction.FolderOpened, Outcome = AuditOutcome.Denied, Reason = "No Browse right on the folder", ActorUserId = staff,
            ActorDisplayName = "Sam Staff", FolderId = folder, TargetPath = "/Restricted", TargetName = "Restricted", ClientIp = "10.0.0.7",
        });
        await data.Audit.AppendAsync(new AuditEvent { Action = AuditAction.SignIn, Outcome = AuditOutcome.Allowed, ActorDisplayName = "Ada Admin" });
    }

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await data.DisposeAsync();
    }

    private IRenderedComponent<AuditLogPage> RenderPage(string role = PortalRoles.ComplianceOfficer)
    {
        var auth = AddAuthorization();
        auth.SetAuthorized("Cora Compliance");
        auth.SetRoles(role);
        auth.SetClaims(new Claim(PortalClaims.UserId, Guid.NewGuid().ToString()));
        Renderer.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        Render<MudPopoverProvider>();
        return Render<AuditLogPage>();
    }

    // The page's first render appends its own "Audit log viewed" and queries the database: beside the other test
    // classes in a full run it took over bunit's default 10 s once.
    private static readonly TimeSpan Busy = TimeSpan.FromSeconds(30);

    [Fact]
    public void The_grid_lists_the_events_the_query_returns_newest_first_with_their_targets()
    {
        var cut = RenderPage();
        // Opening the page is itself recorded (the interactive render), so it is the newest event.
        cut.WaitForAssertion(() => Assert.Equal(4, cut.FindAll("[data-testid=audit-action]").Count), Busy);
        Assert.Equal(["Audit log viewed", "Sign in", "Folder opened", "Document downloaded"], cut.FindAll("[data-testid=audit-action]").Select(e => e.TextContent.Trim()));
        Assert.Equal(["Cora Compliance", "Ada Admin", "Sam Staff", "Sam Staff"], cut.FindAll("[data-testid=audit-actor]").Select(e => e.TextContent.Trim()));
        Assert.Equal(["", "", "/Restricted", "/Shared/Café menu.pdf"], cut.FindAll("[data-testid=audit-target]").Select(e => e.TextContent.Trim()));
        Assert.Contains("Events #", cut.Find("[data-testid=page-range]").TextContent);
    }

    [Fact]
    public void Clicking_a_row_opens_the_drawer_with_that_events_actor_action_outcome_and_target()
    {
        var cut = RenderPage();
        cut.WaitForAssertion(() => Assert.Equal(4, cut.FindAll("tr.audit-row").Count), Busy); // with the page's own "Audit log viewed"
        Assert.Empty(cut.FindAll("[data-testid=audit-detail]"));

        // A click on the row (the mouse), then on the other event's action (the keyboard's button).
        cut.FindAll("tr.audit-row")[2].Click();
        cut.WaitForAssertion(() => Assert.Contains("Folder opened (Denied)", cut.Find("[data-testid=audit-detail] h2").TextContent), Busy);
        Assert.Equal("Sam Staff", cut.Find("[data-testid=detail-actor]").TextContent.Trim());
        Assert.Equal("Folder opened", cut.Find("[data-testid=detail-action]").TextContent.Trim());
        Assert.Equal("Denied: No Browse right on the folder", cut.Find("[data-testid=detail-outcome]").TextContent.Trim());
        Assert.Equal("/Restricted", cut.Find("[data-testid=detail-target]").TextContent.Trim());
        Assert.Contains("mud-drawer--open", cut.Find("[data-testid=audit-drawer]").ClassName);
        Assert.Contains("audit-row-selected", cut.FindAll("tr.audit-row")[2].ClassName);

        cut.FindAll("button.audit-open")[3].Click();
        cut.WaitForAssertion(() => Assert.Equal("/Shared/Café menu.pdf", cut.Find("[data-testid=detail-target]").TextContent.Trim()), Busy);
        Assert.Equal("Document downloaded", cut.Find("[data-testid=detail-action]").TextContent.Trim());
        Assert.Equal("Allowed", cut.Find("[data-testid=detail-outcome]").TextContent.Trim());
        // Where the request came from, as the browser said (issue 25: another site's navigation would say cross-site).
        Assert.Contains(cut.FindAll("[data-testid=audit-detail] tr"), r => r.TextContent.Contains("Sec-Fetch-Site") && r.TextContent.Contains("same-origin"));

        cut.Find("[data-testid=detail-close]").Click();
        cut.WaitForAssertion(() => Assert.DoesNotContain("mud-drawer--open", cut.Find("[data-testid=audit-drawer]").ClassName), Busy);
    }

    [Fact]
    public void Someone_without_the_compliance_role_gets_no_rows_even_if_the_page_renders()
    {
        var cut = RenderPage(PortalRoles.Admin);
        Assert.Empty(cut.FindAll("[data-testid=audit-action]"));
    }
}
