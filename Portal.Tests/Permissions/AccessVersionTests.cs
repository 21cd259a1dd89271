using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Data.Audit;
using Portal.Data.Database;
using Portal.Data.Documents;
using Portal.Data.Permissions;
using Portal.Data.Users;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Permissions;

/// <summary>
/// The access version on a real database: the triggers raise it for every change to what decides a download, and the
/// audit writer records a decision only while the version it was taken at is still the database's.
/// </summary>
public abstract class AccessVersionTests(DatabaseProvider provider) : IAsyncLifetime
{
    private DataServices data = null!;
    protected DataServices Data => data;
    public async Task InitializeAsync() => data = await DataServices.CreateAsync(provider);
    public async Task DisposeAsync() => await data.DisposeAsync();

    protected async Task<long> VersionAsync()
    {
        await using var db = await data.Contexts.CreateDbContextAsync();
        return await db.AccessVersions.Select(a => a.Version).SingleAsync();
    }

    private async Task ChangeAsync(Func<PortalDbContext, Task> change)
    {
        await using var db = await data.Contexts.CreateDbContextAsync();
        await change(db);
        await db.SaveChangesAsync();
    }

    private static AuditEvent Download(int i) => new() { Action = AuditAction.DocumentDownloaded, Outcome = AuditOutcome.Allowed, Size = i };

    [Fact]
    public async Task Every_change_to_what_decides_access_raises_the_version_and_other_writes_do_not()
    {
        var user = new User { Id = Guid.NewGuid(), Issuer = "https://id.example", Subject = "sam", DisplayName = "Sam" };
        var group = new Group { Id = Guid.NewGuid(), Name = "auditors" };
        var folder = Scenario.NewFolder("Contracts");
        var document = new Document { Id = Guid.NewGuid(), FolderId = folder.Id, DisplayName = "a.pdf", ContentHash = new string('a', 64), Size = 1, ContentType = "application/pdf" };
        var userEntry = new PermissionEntry { Id = Guid.NewGuid(), FolderId = folder.Id, UserId = user.Id, Rights = Rights.Browse };
        var groupEntry = new PermissionEntry { Id = Guid.NewGuid(), FolderId = folder.Id, GroupId = group.Id, Rights = Rights.Browse };

        var steps = new (string What, bool Raises, Func<PortalDbContext, Task> Change)[]
        {
            ("a user and a group are added", false, db => { db.Users.Add(user); db.Groups.Add(group); return Task.CompletedTask; }),
            ("a folder is added", true, db => { db.Folders.Add(folder); return Task.CompletedTask; }),
            ("a folder is renamed", true, db => db.Folders.Where(f => f.Id == folder.Id).ExecuteUpdateAsync(u => u.SetProperty(f => f.Name, "Agreements"))),
            ("a document is added", true, db => { db.Documents.Add(document); return Task.CompletedTask; }),
            ("a document is renamed", true, db => db.Documents.Where(d => d.Id == document.Id).ExecuteUpdateAsync(u => u.SetProperty(d => d.DisplayName, "b.pdf"))),
            ("an entry is granted", true, db => { db.PermissionEntries.AddRange(userEntry, groupEntry); return Task.CompletedTask; }),
            ("an entry's rights change", true, db => db.PermissionEntries.Where(p => p.Id == userEntry.Id).ExecuteUpdateAsync(u => u.SetProperty(p => p.Rights, Rights.Browse | Rights.Download))),
            ("a user joins a group", true, db => { db.GroupMemberships.Add(new GroupMembership { UserId = user.Id, GroupId = group.Id }); return Task.CompletedTask; }),
            ("a user's last sign-in is noted", false, db => db.Users.Where(u => u.Id == user.Id).ExecuteUpdateAsync(u => u.SetProperty(x => x.LastSeenAt, DateTimeOffset.UtcNow))),
            ("an audit event is recorded", false, _ => data.Audit.AppendAsync(Download(1))),
            // The group's deletion removes its membership and its entry by cascade: those rows' triggers fire.
            ("a group is deleted", true, db => db.Groups.Where(g => g.Id == group.Id).ExecuteDeleteAsync()),
            ("an entry is revoked", true, db => db.PermissionEntries.Where(p => p.Id == userEntry.Id).ExecuteDeleteAsync()),
            ("a document is removed", true, db => db.Documents.Where(d => d.Id == document.Id).ExecuteDeleteAsync()),
        };
        var wrong = new List<string>();
        foreach (var (what, raises, change) in steps)
        {
            var before = await VersionAsync();
            await ChangeAsync(change);
            var after = await VersionAsync();
            if (raises ? after <= before : after != before) wrong.Add($"{what}: {before} -> {after}");
        }
        Assert.Empty(wrong);
        await using var check = await data.Contexts.CreateDbContextAsync();
        Assert.False(await check.GroupMemberships.AnyAsync(m => m.GroupId == group.Id)); // the cascade did happen
        Assert.False(await check.PermissionEntries.AnyAsync(p => p.Id == groupEntry.Id));
    }

    [Fact]
    public async Task A_decision_taken_before_a_change_is_not_recorded_and_one_taken_after_is()
    {
        await using var reads = await data.DownloadReads.OpenAsync(default);
        var decidedAt = await reads.AccessVersionAsync(default);
        await ChangeAsync(db => { db.Folders.Add(Scenario.NewFolder("New")); return Task.CompletedTask; });

        await Assert.ThrowsAsync<AccessChangedException>(() => data.Audit.AppendAsync(Download(1), decidedAt));

        var now = await reads.AccessVersionAsync(default);
        Assert.True(now > decidedAt);
        var id = await data.Audit.AppendAsync(Download(2), now);
        await using var db = await data.Contexts.CreateDbContextAsync();
        var events = await db.AuditEvents.AsNoTracking().OrderBy(e => e.Id).ToListAsync();
        Assert.Equal([(id, 2L)], events.Select(e => (e.Id, e.Size!.Value)));
    }

    [Fact]
    public async Task Decisions_on_old_facts_drop_out_of_a_batch_and_the_rest_form_one_chain()
    {
        var current = await VersionAsync();
        var results = await Task.WhenAll(Enumerable.Range(0, 30).Select(async i =>
        {
            try
            {
                // Every third decision was taken at an older version; the others at the current one or with none.
                await data.Audit.AppendAsync(Download(i), i % 3 == 0 ? current - 1 : i % 3 == 1 ? current : null);
                return (i, Recorded: true);
            }
            catch (AccessChangedException)
            {
                return (i, Recorded: false);
            }
        }));

        Assert.All(results, r => Assert.Equal(r.i % 3 != 0, r.Recorded));
        await using var db = await data.Contexts.CreateDbContextAsync();
        var events = await db.AuditEvents.AsNoTracking().OrderBy(e => e.Id).ToListAsync();
        Assert.Equal(results.Where(r => r.Recorded).Select(r => (long)r.i).Order(), events.Select(e => e.Size!.Value).Order());
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), events.Select(e => e.Id)); // no gaps where the stale ones were
        Assert.Null(AuditChain.FindFirstBroken(events));
    }
}

public sealed class SqliteAccessVersionTests() : AccessVersionTests(DatabaseProvider.Sqlite);

public sealed class PostgresAccessVersionTests() : AccessVersionTests(DatabaseProvider.PostgreSQL)
{
    /// <summary>TRUNCATE, which fires no row triggers, raises the version too (someone emptying a table by hand).</summary>
    [Fact]
    public async Task Emptying_a_table_with_truncate_raises_the_version()
    {
        var before = await VersionAsync();
        await using (var db = await Data.Contexts.CreateDbContextAsync())
            await db.Database.ExecuteSqlRawAsync("TRUNCATE \"PermissionEntries\"");
        Assert.True(await VersionAsync() > before);
    }

    /// <summary>
    /// PostgreSQL raises the version at commit, once per transaction: so the version row's lock is the last any
    /// transaction takes, and two changes that wait for each other's rows do not also deadlock through it.
    /// </summary>
    [Fact]
    public async Task Two_transactions_that_wait_on_each_others_rows_both_commit_and_each_raises_the_version_once()
    {
        Guid folder, document;
        await using (var db = await Data.Contexts.CreateDbContextAsync())
        {
            var f = Scenario.NewFolder("Shared");
            var d = new Document { Id = Guid.NewGuid(), FolderId = f.Id, DisplayName = "a.pdf", ContentHash = new string('a', 64), Size = 1, ContentType = "application/pdf" };
            db.Folders.Add(f);
            db.Documents.Add(d);
            await db.SaveChangesAsync();
            (folder, document) = (f.Id, d.Id);
        }
        var before = await VersionAsync();

        await using var a = new Npgsql.NpgsqlConnection(Data.Database.ConnectionString);
        await using var b = new Npgsql.NpgsqlConnection(Data.Database.ConnectionString);
        await a.OpenAsync();
        await b.OpenAsync();
        await using var txA = await a.BeginTransactionAsync();
        await using var txB = await b.BeginTransactionAsync();
        async Task RunAsync(Npgsql.NpgsqlConnection c, string sql) => await new Npgsql.NpgsqlCommand(sql, c) { CommandTimeout = 10 }.ExecuteNonQueryAsync();
        // A changes the document (twice: still one raise), B the folder; then A wants the folder's row and waits for B.
        await RunAsync(a, $"UPDATE \"Documents\" SET \"DisplayName\" = 'b.pdf' WHERE \"Id\" = '{document}'");
        await RunAsync(a, $"UPDATE \"Documents\" SET \"DisplayName\" = 'c.pdf' WHERE \"Id\" = '{document}'");
        await RunAsync(b, $"UPDATE \"Folders\" SET \"Name\" = 'B' WHERE \"Id\" = '{folder}'");
        var aWaits = RunAsync(a, $"UPDATE \"Folders\" SET \"Name\" = 'A' WHERE \"Id\" = '{folder}'");
        await Task.Delay(200);
        Assert.False(aWaits.IsCompleted);

        await txB.CommitAsync();
        await aWaits.WaitAsync(TimeSpan.FromSeconds(10));
        await txA.CommitAsync();

        Assert.Equal(before + 2, await VersionAsync());
    }
}
