using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.App.Hosting;
using Portal.Data.Database;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Folders;

/// <summary>
/// On SQLite (one writer per file) folder changes and the bin write in turn with the audit writer: met on the file lock
/// instead, the loser sleeps 150 ms in Microsoft.Data.Sqlite and every download waiting for its audit row with it.
/// Each change here is held while another writer has its turn, and lands once that turn is over. Permission and user
/// changes are not in this list: their audit event is committed first, which waits for the turn anyway.
/// </summary>
public sealed class SqliteWriteTurnTests : IAsyncLifetime
{
    private TestDatabase database = null!;
    private PortalHost host = null!;
    private Scenario scenario = null!;

    public async Task InitializeAsync()
    {
        database = TestDatabase.Create(DatabaseProvider.Sqlite);
        host = new PortalHost(database, DeliveryMode.Direct);
        scenario = await Scenario.CreateAsync(host.Services);
    }

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        await database.DisposeAsync();
    }

    [Fact]
    public async Task Folder_changes_and_the_bin_wait_for_their_turn_with_the_audit_writer()
    {
        var admin = host.CreateBrowserLikeClient();
        await SignIn.AsDemoUserForFormsAsync(admin, "admin");
        var gate = host.Services.GetRequiredService<DatabaseWriteGate>();
        var shared = scenario.SharedFolderId;
        Task<T> Db<T>(Func<Portal.Data.PortalDbContext, Task<T>> query) => host.WithDbAsync(query);
        Guid folder = default, deletion = default;

        // Each step: what to do first, the change made while another writer has its turn, and how to see it written.
        Task Nothing() => Task.CompletedTask;
        var steps = new (string What, Func<Task> First, Func<Task<HttpResponseMessage>> Change, Func<Task<bool>> Written)[]
        {
            ("create", Nothing, () => admin.PostAsJsonAsync("/folders", new { name = "Minutes", parentId = shared }),
                () => Db(db => db.Folders.AnyAsync(f => f.Name == "Minutes"))),
            ("rename", Nothing, () => admin.PostAsJsonAsync($"/folders/{folder}/rename", new { name = "Minutes 2027" }),
                () => Db(db => db.Folders.AnyAsync(f => f.Name == "Minutes 2027"))),
            ("move", Nothing, () => admin.PostAsJsonAsync($"/folders/{folder}/move", new { targetFolderId = scenario.RestrictedFolderId }),
                () => Db(db => db.Folders.AnyAsync(f => f.Id == folder && f.ParentId == scenario.RestrictedFolderId))),
            ("delete", Nothing, () => admin.DeleteAsync($"/folders/{folder}"),
                () => Db(db => db.Folders.AnyAsync(f => f.Id == folder && f.IsDeleted))),
            ("restore", Nothing, () => admin.PostAsync($"/bin/{deletion}/restore", null),
                () => Db(db => db.Folders.AnyAsync(f => f.Id == folder && !f.IsDeleted))),
            ("empty the bin", () => admin.DeleteAsync($"/folders/{folder}"), () => admin.PostAsync("/bin/empty", null),
                () => Db(db => db.Folders.AllAsync(f => f.Id != folder))),
        };

        foreach (var (what, first, change, written) in steps)
        {
            await first();
            Task<HttpResponseMessage> sent;
            var otherWriter = await gate.EnterAsync();
            try
            {
                sent = change();
                await Task.Delay(500);
                Assert.False(await written(), $"{what}: written while another writer had its turn");
            }
            finally { otherWriter.Dispose(); }

            var response = await sent;
            Assert.True(response.IsSuccessStatusCode, $"{what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.True(await written(), $"{what}: not written after the turn");
            if (what == "create") folder = await IdAsync(response);
            if (what == "delete") deletion = await IdAsync(response);
        }
    }

    private static async Task<Guid> IdAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
}
