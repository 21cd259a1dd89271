using System.Net;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Folders;

/// <summary>Opening a folder's address directly (a bookmark, a refresh, a link in an e-mail), as the first request.</summary>
public sealed class FolderPageTests
{
    [Theory]
    [InlineData("")]
    [InlineData("?a=b&%3B=%2500")]
    public async Task A_folder_address_opens_the_folder_instead_of_redirecting_to_itself(string query)
    {
        await using var database = new SqliteTestDatabase();
        await using var host = new PortalHost(database);
        var scenario = await Scenario.CreateAsync(host.Services);
        var staff = host.CreateBrowserLikeClient();
        await SignIn.AsDemoUserAsync(staff, "staff");

        var response = await staff.GetAsync($"/folders/{scenario.SharedFolderId}{query}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(Scenario.SharedDocumentName, await response.Content.ReadAsStringAsync());
    }
}
