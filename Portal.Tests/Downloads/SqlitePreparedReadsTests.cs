using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Portal.Data.Database;
using Portal.Data.Documents;
using Portal.Data.Downloads;
using Portal.Data.Folders;
using Portal.Data.Permissions;
using Portal.Data.Users;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Downloads;

/// <summary>
/// The download decision's reads on SQLite reuse connections and prepared statements across requests: a change must be
/// seen by the very next decision, and a failed read must not break the ones after it.
/// </summary>
public sealed class SqlitePreparedReadsTests : IAsyncLifetime
{
    private DataServices data = null!;
    private Folder folder = null!;
    private Document document = null!;
    private Guid userId;

    public async Task InitializeAsync()
    {
        data = await DataServices.CreateAsync(DatabaseProvider.Sqlite);
        await using var db = await data.Contexts.CreateDbContextAsync();
        var user = new User { Id = Guid.NewGuid(), Issuer = "t", Subject = "reader", DisplayName = "Reader" };
        userId = user.Id;
        folder = Scenario.NewFolder("Contracts");
        document = new Document { Id = Guid.NewGuid(), FolderId = folder.Id, DisplayName = "lease.pdf", ContentHash = new string('a', 64), Size = 10, ContentType = "application/pdf" };
        db.AddRange(user, folder, document,
            new PermissionEntry { Id = Guid.NewGuid(), FolderId = folder.Id, UserId = user.Id, Rights = Rights.Browse | Rights.Download });
        await db.SaveChangesAsync();
    }

    public async Task DisposeAsync() => await data.DisposeAsync();

    private async Task<(DeliverableDocument? Document, Rights Rights)> DecideAsync()
    {
        await using var reads = await data.DownloadReads.OpenAsync(default);
        var found = await reads.LiveDocumentAsync(document.Id, default);
        return (found, found is null ? Rights.None : (await reads.PathAccessAsync(new Actor(userId, false), found.FolderPath, default)).Rights);
    }

    [Fact]
    public async Task A_revoked_right_and_a_deleted_document_count_from_the_next_decision_on()
    {
        Assert.Equal(Rights.Browse | Rights.Download, (await DecideAsync()).Rights);

        await using (var db = await data.Contexts.CreateDbContextAsync())
            await db.PermissionEntries.Where(p => p.FolderId == folder.Id).ExecuteDeleteAsync();
        Assert.Equal(Rights.None, (await DecideAsync()).Rights);

        await using (var db = await data.Contexts.CreateDbContextAsync())
            await db.Documents.Where(d => d.Id == document.Id).ExecuteUpdateAsync(s => s.SetProperty(d => d.IsDeleted, true));
        Assert.Null((await DecideAsync()).Document);
    }

    [Fact]
    public async Task A_failed_read_does_not_break_the_decisions_after_it()
    {
        Assert.NotNull((await DecideAsync()).Document);

        await using (var db = await data.Contexts.CreateDbContextAsync())
            await db.Database.ExecuteSqlRawAsync("ALTER TABLE \"Documents\" RENAME TO \"DocumentsAway\"");
        await Assert.ThrowsAsync<SqliteException>(DecideAsync);

        await using (var db = await data.Contexts.CreateDbContextAsync())
            await db.Database.ExecuteSqlRawAsync("ALTER TABLE \"DocumentsAway\" RENAME TO \"Documents\"");
        Assert.Equal(Rights.Browse | Rights.Download, (await DecideAsync()).Rights);
    }
}
