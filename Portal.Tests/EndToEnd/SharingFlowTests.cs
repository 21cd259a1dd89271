using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Portal.Data.Audit;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.EndToEnd;

/// <summary>
/// The whole everyday flow in Chromium, as the people involved do it: an admin creates a folder, uploads two files
/// watching their progress and grants one staff member Download; that person finds and downloads the file; another
/// staff member sees none of it.
/// </summary>
public sealed class SharingFlowTests : IAsyncLifetime
{
    private ChromiumApp? chromium;
    private PortalHost app => chromium!.App;

    public async Task InitializeAsync() => chromium = await ChromiumApp.StartAsync();

    public async Task DisposeAsync()
    {
        if (chromium is not null) await chromium.DisposeAsync();
    }

    private Task<IPage> SignInAsync(string demoUserKey, string displayName) => chromium!.SignInAsync(demoUserKey, displayName);

    [ChromiumFact]
    public async Task An_admin_shares_a_new_folder_with_one_staff_member_who_downloads_while_another_sees_nothing()
    {
        var contract = System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("Terms and conditions, 2027.\n", 30_000)));

        // The admin: a new top-level folder (no entries: nobody but admins sees it yet) with two files.
        var admin = await SignInAsync("admin", "Ada Admin");
        await admin.GetByTestId("top-folder-name").FillAsync("Contracts 2027");
        await admin.GetByTestId("top-folder-create").ClickAsync();
        await Assertions.Expect(admin.GetByTestId("folder-title")).ToHaveTextAsync("Contracts 2027");
        await ChromiumApp.WaitInteractiveAsync(admin);
        var cdp = await admin.Context.NewCDPSessionAsync(admin);
        await cdp.SendAsync("Network.emulateNetworkConditions", new Dictionary<string, object>
        {
            ["offline"] = false, ["latency"] = 0, ["downloadThroughput"] = -1, ["uploadThroughput"] = 2 * 1024 * 1024,
        });
        var progress = await AdminSteps.UploadAsync(admin,
            new FilePayload { Name = "Contract terms.txt", MimeType = "text/plain", Buffer = contract },
            new FilePayload { Name = "Signatures.txt", MimeType = "text/plain", Buffer = "Signed by both parties."u8.ToArray() });
        Assert.True(progress["Contract terms.txt"].Count(p => p is > 0 and < 100) >= 2, $"steps seen: {string.Join(", ", progress["Contract terms.txt"])}");
        Assert.Equal(100, progress["Signatures.txt"][^1]);

        // ...grants Sam (and only Sam) Browse and Download on the folder's access page.
        await admin.GetByTestId("access-link").ClickAsync();
        await Assertions.Expect(admin.GetByTestId("access-title")).ToHaveTextAsync("Who has access to /Contracts 2027");
        await ChromiumApp.WaitInteractiveAsync(admin);
        // Sam, picked from the list after typing his name.
        await admin.GetByTestId("new-principal").ClickAsync();
        await admin.GetByTestId("new-principal").PressSequentiallyAsync("Sam");
        await admin.GetByTestId("principal-option").Filter(new() { HasText = "Sam Staff (sam@example.org)" }).ClickAsync();
        await Assertions.Expect(admin.GetByTestId("new-principal")).ToHaveValueAsync("Sam Staff (sam@example.org)");
        await admin.GetByTestId("grant").ClickAsync();
        await Assertions.Expect(admin.GetByTestId("editor-message")).ToContainTextAsync("Granted Browse, Download");

        // Sam finds the file by name and downloads it, byte for byte.
        var sam = await SignInAsync("staff", "Sam Staff");
        await Assertions.Expect(sam.GetByTestId("folder-tree").GetByText("Contracts 2027", new() { Exact = true })).ToBeVisibleAsync();
        await sam.GetByTestId("search-input").FillAsync("contract");
        await sam.GetByTestId("search-submit").ClickAsync();
        await Assertions.Expect(sam.GetByTestId("document-name")).ToHaveTextAsync(["Contract terms.txt"]);
        // Its folder opens from the result; the row's menu downloads it.
        await sam.GetByTestId("search-folder").First.ClickAsync();
        await Assertions.Expect(sam.GetByTestId("folder-title")).ToHaveTextAsync("Contracts 2027");
        var download = await sam.RunAndWaitForDownloadAsync(() => AdminSteps.RowActionAsync(sam, "Contract terms.txt", "download-link"));
        Assert.Equal("Contract terms.txt", download.SuggestedFilename);
        Assert.Equal(contract, await File.ReadAllBytesAsync((await download.PathAsync())!));

        // Tom, also staff, sees neither the folder nor the file, and a direct link is refused.
        var tom = await SignInAsync("staff2", "Tom Staff");
        await Assertions.Expect(tom.GetByTestId("folder-tree").GetByText("Company", new() { Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(tom.GetByTestId("folder-tree").GetByText("Contracts 2027", new() { Exact = true })).ToHaveCountAsync(0);
        await tom.GetByTestId("search-input").FillAsync("contract");
        await tom.GetByTestId("search-submit").ClickAsync();
        await Assertions.Expect(tom.GetByTestId("search-results")).ToContainTextAsync("No document you may see has a name like \"contract\".");
        var documentId = await app.WithDbAsync(db => db.Documents.Where(d => d.DisplayName == "Contract terms.txt").Select(d => d.Id).SingleAsync());
        Assert.Equal(403, (await tom.APIRequest.GetAsync($"/d/{documentId}")).Status);

        // The audit log tells the story: the grant with what it gave, Sam's download, Tom's refusal.
        var events = await app.AuditEventsAsync();
        var grant = Assert.Single(events, e => e.Action == AuditAction.PermissionGranted);
        Assert.Equal("Ada Admin", grant.ActorDisplayName);
        Assert.Contains("after", grant.Changes);
        Assert.Single(events, e => e is { Action: AuditAction.DocumentDownloaded, Outcome: AuditOutcome.Allowed, ActorDisplayName: "Sam Staff" } && e.DocumentId == documentId);
        Assert.Single(events, e => e is { Action: AuditAction.DocumentDownloaded, Outcome: AuditOutcome.Denied, ActorDisplayName: "Tom Staff" } && e.DocumentId == documentId);
        Assert.Null(AuditChain.FindFirstBroken(events));
    }
}
