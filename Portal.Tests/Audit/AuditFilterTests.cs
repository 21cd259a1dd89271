using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.App.Audit;
using Portal.Data.Audit;
using Portal.Data.Database;
using Portal.Data.Folders;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Audit;

/// <summary>
/// 100,000 generated events (written through the real audit writer) on a real database: every filter of the
/// compliance view, walked page by page with keyset paging, returns exactly the events the filter describes, in
/// order, with no page skipping or repeating one.
/// </summary>
public abstract class AuditFilterTests : IClassFixture<AuditFilterTests.Generated>
{
    private const int EventCount = 100_000;

    /// <summary>The generated log, shared by the tests of one provider (writing it is the slow part).</summary>
    public sealed class Generated : IAsyncLifetime
    {
        public DataServices Data { get; private set; } = null!;
        public List<AuditEvent> Events { get; } = [];
        public Guid[] Users { get; } = Enumerable.Range(0, 7).Select(_ => Guid.NewGuid()).ToArray();
        public Guid[] Documents { get; } = Enumerable.Range(0, 40).Select(_ => Guid.NewGuid()).ToArray();
        public Folder Finance { get; } = Scenario.NewFolder("Finance");
        public Folder Finance2026 { get; private set; } = null!;
        public Folder Legal { get; } = Scenario.NewFolder("Legal");
        public DateTimeOffset Start { get; } = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);
        public DatabaseProvider Provider { get; set; }

        public Task InitializeAsync() => Task.CompletedTask;

        public async Task EnsureAsync(DatabaseProvider provider)
        {
            if (Data is not null) return;
            Provider = provider;
            Data = await DataServices.CreateAsync(provider);
            Finance2026 = Scenario.NewFolder("2026", Finance);
            await using (var db = await Data.Contexts.CreateDbContextAsync())
            {
                db.Folders.AddRange(Finance, Finance2026, Legal);
                await db.SaveChangesAsync();
            }
            Guid[] folders = [Finance.Id, Finance2026.Id, Legal.Id];
            var actions = new[] { AuditAction.DocumentDownloaded, AuditAction.DocumentViewed, AuditAction.FolderOpened, AuditAction.SignIn, AuditAction.DocumentUploaded };
            var clock = new FakeClock(Start);
            await using var log = new AuditLog(Data.Contexts, clock, NullLogger<AuditLog>.Instance);
            const int perMinute = 1000;
            for (var chunk = 0; chunk < EventCount / perMinute; chunk++)
            {
                var batch = new List<AuditEvent>(perMinute);
                for (var j = 0; j < perMinute; j++)
                {
                    var i = chunk * perMinute + j;
                    var action = actions[i % actions.Length];
                    var isDocument = action is AuditAction.DocumentDownloaded or AuditAction.DocumentViewed or AuditAction.DocumentUploaded;
                    batch.Add(new AuditEvent
                    {
                        Action = action,
                        Outcome = i % 7 == 3 ? AuditOutcome.Denied : AuditOutcome.Allowed,
                        Reason = i % 7 == 3 ? "No Download right on the folder" : null,
                        ActorUserId = Users[i * 31 % Users.Length],
                        ActorDisplayName = $"User {i * 31 % Users.Length}",
                        ClientIp = $"10.0.0.{i % 13}",
                        DocumentId = isDocument ? Documents[i * 17 % Documents.Length] : null,
                        FolderId = action == AuditAction.SignIn ? null : folders[i % 3],
                        TargetName = isDocument ? $"doc {i * 17 % Documents.Length}.pdf" : null,
                    });
                }
                // Appended concurrently, so they are group-committed; each minute gets its own time.
                await Task.WhenAll(batch.Select(e => log.AppendAsync(e)));
                Events.AddRange(batch);
                clock.Advance(TimeSpan.FromMinutes(1));
            }
            Events.Sort((a, b) => a.Id.CompareTo(b.Id));
        }

        public async Task DisposeAsync()
        {
            if (Data is not null) await Data.DisposeAsync();
        }
    }

    private readonly DatabaseProvider provider;
    private readonly Generated generated;

    protected AuditFilterTests(DatabaseProvider provider, Generated generated) => (this.provider, this.generated) = (provider, generated);

    private async Task<AuditQueries> QueriesAsync()
    {
        await generated.EnsureAsync(provider);
        return new AuditQueries(generated.Data.Contexts);
    }

    public static TheoryData<string> FilterNames => new(Filters.Keys);

    /// <summary>Each filter, and what it means, said a second time in plain LINQ over the generated events.</summary>
    private static readonly Dictionary<string, (Func<Generated, AuditFilter> Filter, Func<Generated, AuditEvent, bool> Matches)> Filters = new()
    {
        ["none"] = (_ => new AuditFilter(), (_, _) => true),
        ["user"] = (g => new AuditFilter { UserId = g.Users[3] }, (g, e) => e.ActorUserId == g.Users[3]),
        ["document"] = (g => new AuditFilter { DocumentId = g.Documents[5] }, (g, e) => e.DocumentId == g.Documents[5]),
        ["folder with subfolders"] = (g => new AuditFilter { FolderId = g.Finance.Id },
            (g, e) => e.FolderId == g.Finance.Id || e.FolderId == g.Finance2026.Id),
        ["folder alone"] = (g => new AuditFilter { FolderId = g.Finance.Id, IncludeSubfolders = false }, (g, e) => e.FolderId == g.Finance.Id),
        ["one action"] = (_ => new AuditFilter { Actions = [AuditAction.DocumentDownloaded] }, (_, e) => e.Action == AuditAction.DocumentDownloaded),
        ["two actions"] = (_ => new AuditFilter { Actions = [AuditAction.DocumentViewed, AuditAction.FolderOpened] },
            (_, e) => e.Action is AuditAction.DocumentViewed or AuditAction.FolderOpened),
        ["denied"] = (_ => new AuditFilter { Outcome = AuditOutcome.Denied }, (_, e) => e.Outcome == AuditOutcome.Denied),
        ["ip"] = (_ => new AuditFilter { ClientIp = "10.0.0.7" }, (_, e) => e.ClientIp == "10.0.0.7"),
        ["time range"] = (g => new AuditFilter { From = g.Start.AddMinutes(20), To = g.Start.AddMinutes(41) },
            (g, e) => e.OccurredAt >= g.Start.AddMinutes(20) && e.OccurredAt < g.Start.AddMinutes(41)),
        ["everything at once"] = (g => new AuditFilter
            {
                UserId = g.Users[2], FolderId = g.Finance.Id, Actions = [AuditAction.DocumentDownloaded, AuditAction.DocumentViewed],
                Outcome = AuditOutcome.Allowed, From = g.Start.AddMinutes(10), To = g.Start.AddMinutes(90),
            },
            (g, e) => e.ActorUserId == g.Users[2] && (e.FolderId == g.Finance.Id || e.FolderId == g.Finance2026.Id)
                      && e.Action is AuditAction.DocumentDownloaded or AuditAction.DocumentViewed && e.Outcome == AuditOutcome.Allowed
                      && e.OccurredAt >= g.Start.AddMinutes(10) && e.OccurredAt < g.Start.AddMinutes(90)),
        ["nothing matches"] = (_ => new AuditFilter { ClientIp = "192.0.2.1" }, (_, _) => false),
    };

    [Theory]
    [MemberData(nameof(FilterNames))]
    public async Task Keyset_pages_of_a_filter_hold_exactly_the_matching_events_newest_first(string name)
    {
        var q = await QueriesAsync();
        var (makeFilter, matches) = Filters[name];
        var filter = makeFilter(generated);
        var expected = generated.Events.Where(e => matches(generated, e)).Select(e => e.Id).OrderByDescending(id => id).ToList();

        var seen = new List<long>();
        var page = await q.PageAsync(filter, AuditQueries.MaxPageSize);
        Assert.False(page.HasNewer);
        while (true)
        {
            Assert.True(page.Rows.Count <= AuditQueries.MaxPageSize);
            seen.AddRange(page.Rows.Select(r => r.Id));
            if (!page.HasOlder) break;
            page = await q.PageAsync(filter, AuditQueries.MaxPageSize, beforeId: page.OldestId);
        }

        Assert.Equal(expected.Count, seen.Count);
        Assert.Equal(expected, seen);
        Assert.Equal(expected.Count, await q.CountAsync(filter));
    }

    [Fact]
    public async Task Going_back_to_newer_pages_returns_the_same_pages()
    {
        var q = await QueriesAsync();
        var filter = new AuditFilter { UserId = generated.Users[1] };
        var first = await q.PageAsync(filter, 50);
        var second = await q.PageAsync(filter, 50, beforeId: first.OldestId);
        var third = await q.PageAsync(filter, 50, beforeId: second.OldestId);

        var backToSecond = await q.PageAsync(filter, 50, afterId: third.NewestId);
        var backToFirst = await q.PageAsync(filter, 50, afterId: backToSecond.NewestId);

        Assert.Equal(second.Rows.Select(r => r.Id), backToSecond.Rows.Select(r => r.Id));
        Assert.Equal(first.Rows.Select(r => r.Id), backToFirst.Rows.Select(r => r.Id));
        Assert.False(backToFirst.HasNewer);
        Assert.True(backToSecond.HasNewer);
    }

    [Fact]
    public async Task Reports_count_what_the_events_say()
    {
        var q = await QueriesAsync();
        var filter = new AuditFilter { Outcome = AuditOutcome.Denied };
        var perDay = await q.PerDayAsync(filter, generated.Start.UtcDateTime.Date, 1);
        Assert.Equal(generated.Events.Count(e => e.Outcome == AuditOutcome.Denied), perDay.Sum(c => c.Count));
        Assert.All(perDay, c => Assert.Equal(AuditOutcome.Denied, c.Outcome));

        var topUsers = await q.TopUsersAsync(new AuditFilter(), 3);
        var expectedTop = generated.Events.GroupBy(e => e.ActorUserId).Select(g => g.Count()).OrderByDescending(c => c).Take(3).ToList();
        Assert.Equal(expectedTop, topUsers.Select(t => t.Count));

        var topDocs = await q.TopDocumentsAsync(new AuditFilter(), 1);
        var expectedDoc = generated.Events.Where(e => e.Action is AuditAction.DocumentDownloaded or AuditAction.DocumentViewed)
            .GroupBy(e => e.DocumentId).OrderByDescending(g => g.Count()).First();
        Assert.Equal(expectedDoc.Count(), topDocs.Single().Count);
    }

    [Fact]
    public async Task The_generated_chain_verifies()
    {
        await QueriesAsync();
        var result = await AuditChainVerification.VerifyAsync(generated.Data.Contexts, new AuditCheckpointSigner(null));
        Assert.True(result.Holds, result.Describe());
        Assert.Equal(EventCount, result.Verified);
    }
}

public sealed class SqliteAuditFilterTests(AuditFilterTests.Generated generated) : AuditFilterTests(DatabaseProvider.Sqlite, generated);

public sealed class PostgresAuditFilterTests(AuditFilterTests.Generated generated) : AuditFilterTests(DatabaseProvider.PostgreSQL, generated);
