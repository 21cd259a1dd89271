using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Portal.App.Hosting;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Documents;

/// <summary>Broken multipart bodies (found by bench/reliability.sh's fuzzing: they answered 500).</summary>
public sealed class MalformedUploadTests : IAsyncLifetime
{
    private TestDatabase database = null!;
    private PortalHost host = null!;
    private Scenario scenario = null!;

    public async Task InitializeAsync()
    {
        database = new SqliteTestDatabase();
        host = new PortalHost(database, DeliveryMode.Direct);
        scenario = await Scenario.CreateAsync(host.Services);
    }

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        await database.DisposeAsync();
    }

    public static TheoryData<string> Bodies => new()
    {
        // cut off in the middle of the file: no closing boundary
        "--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"cut.bin\"\r\n\r\nhalf a file",
        // part headers longer than the reader allows
        "--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"" + new string('a', 20000) + "\"\r\n\r\nx\r\n--b--\r\n",
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task A_broken_multipart_body_is_refused_with_400_and_nothing_is_kept(string body)
    {
        var admin = host.CreateBrowserLikeClient();
        await SignIn.AsDemoUserForFormsAsync(admin, "admin");
        var documents = await host.WithDbAsync(db => db.Documents.CountAsync());
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");

        var response = await admin.PostAsync($"/folders/{scenario.SharedFolderId}/documents", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain("Exception", await response.Content.ReadAsStringAsync());
        Assert.Equal(documents, await host.WithDbAsync(db => db.Documents.CountAsync()));
        var incoming = Path.Combine(host.StorageRoot, ".incoming");
        Assert.Empty(Directory.Exists(incoming) ? Directory.GetFiles(incoming) : []);
    }
}
