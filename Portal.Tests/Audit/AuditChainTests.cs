using Microsoft.EntityFrameworkCore;
using Portal.Data.Audit;
using Portal.Data.Database;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Audit;

/// <summary>The chain on a real database: appended events verify; an edited or removed event is named.</summary>
public abstract class AuditChainTests(DatabaseProvider provider) : IAsyncLifetime
{
    private DataServices data = null!;
    public async Task InitializeAsync() => data = await DataServices.CreateAsync(provider);
    public async Task DisposeAsync() => await data.DisposeAsync();

    private async Task<List<AuditEvent>> AppendAndReadAsync(int count)
    {
        for (var i = 0; i < count; i++)
            await data.Audit.AppendAsync(new AuditEvent { Action = AuditAction.DocumentDownloaded, Outcome = AuditOutcome.Allowed, TargetName = $"doc {i}.pdf", Size = i });
        await using var db = await data.Contexts.CreateDbContextAsync();
        return await db.AuditEvents.AsNoTracking().OrderBy(e => e.Id).ToListAsync();
    }

    [Fact]
    public async Task Appended_events_form_a_verifiable_chain()
    {
        var events = await AppendAndReadAsync(5);
        Assert.Equal(5, events.Count);
        Assert.Equal(AuditChain.GenesisHash, events[0].PreviousHash);
        Assert.Null(AuditChain.FindFirstBroken(events));
    }

    [Fact]
    public async Task Concurrent_appends_still_form_one_chain()
    {
        await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            data.Audit.AppendAsync(new AuditEvent { Action = AuditAction.DocumentDownloaded, Outcome = AuditOutcome.Allowed, Size = i })));
        await using var db = await data.Contexts.CreateDbContextAsync();
        var events = await db.AuditEvents.AsNoTracking().OrderBy(e => e.Id).ToListAsync();
        Assert.Equal(20, events.Count);
        Assert.Null(AuditChain.FindFirstBroken(events));
    }

    [Fact]
    public async Task Two_app_instances_appending_at_once_still_form_one_chain()
    {
        await using var second = data.SecondInstance();
        var writers = new[] { data.Audit, second.Audit };
        await Task.WhenAll(Enumerable.Range(0, 60).Select(i =>
            writers[i % 2].AppendAsync(new AuditEvent { Action = AuditAction.DocumentDownloaded, Outcome = AuditOutcome.Allowed, Size = i })));

        await using var db = await data.Contexts.CreateDbContextAsync();
        var events = await db.AuditEvents.AsNoTracking().OrderBy(e => e.Id).ToListAsync();
        Assert.Equal(60, events.Count);
        Assert.Equal(Enumerable.Range(1, 60).Select(i => (long)i), events.Select(e => e.Id));
        Assert.Null(AuditChain.FindFirstBroken(events));
    }

    [Fact]
    public async Task An_edited_event_is_named_as_the_first_broken_one()
    {
        var events = await AppendAndReadAsync(4);
        events[2].TargetName = "something else.pdf";
        Assert.Equal(events[2].Id, AuditChain.FindFirstBroken(events));
    }

    [Theory]
    [InlineData("UPDATE \"AuditEvents\" SET \"TargetName\" = 'forged'")]
    [InlineData("DELETE FROM \"AuditEvents\"")]
    public async Task The_database_refuses_to_change_or_delete_audit_events(string sql)
    {
        await AppendAndReadAsync(2);
        await using var db = await data.Contexts.CreateDbContextAsync();

        var error = await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => db.Database.ExecuteSqlRawAsync(sql));

        Assert.Contains("append-only", error.Message);
        Assert.Equal(2, await db.AuditEvents.CountAsync());
        Assert.DoesNotContain(await db.AuditEvents.Select(e => e.TargetName).ToListAsync(), n => n == "forged");
    }

    [Fact]
    public async Task Every_field_is_stored_and_read_back_exactly_as_appended()
    {
        // The writer inserts without EF's update pipeline: what it stores must be what EF reads back, field for field.
        var full = new AuditEvent
        {
            Action = AuditAction.PermissionGranted, Outcome = AuditOutcome.Denied, Reason = "Grant refused: \"quotes\", 'apostrophes'; semicolons",
            ActorUserId = Guid.NewGuid(), ActorSubject = "sub|123", ActorDisplayName = "Zoë Ångström 山田", ActorGroups = "finance,legal",
            SessionId = Guid.NewGuid().ToString(), CorrelationId = "0HN:00000001", ClientIp = "2001:db8::1", UserAgent = "Mozilla/5.0 (X11)", FetchSite = "cross-site",
            DocumentId = Guid.NewGuid(), FolderId = Guid.NewGuid(), TargetPath = "/Finance/2026 – Q1", TargetName = "Bericht «Ü».pdf",
            ContentHash = new string('a', 64), Size = 5_000_000_000, Range = "bytes=0-99,-10",
            Changes = """{"before":{"rights":"Browse"},"after":{"rights":"Browse, Download"}}""",
        };
        var sparse = new AuditEvent { Action = AuditAction.SignOut, Outcome = AuditOutcome.Allowed };
        var ids = await Task.WhenAll(data.Audit.AppendAsync(full), data.Audit.AppendAsync(sparse));

        await using var db = await data.Contexts.CreateDbContextAsync();
        var stored = await db.AuditEvents.AsNoTracking().OrderBy(e => e.Id).ToListAsync();
        Assert.Equal(ids.Order(), stored.Select(e => e.Id));
        var properties = typeof(AuditEvent).GetProperties();
        foreach (var appended in new[] { full, sparse })
        {
            var read = stored.Single(e => e.Id == appended.Id);
            foreach (var p in properties) Assert.True(Equals(p.GetValue(appended), p.GetValue(read)), $"{p.Name}: {p.GetValue(appended)} became {p.GetValue(read)}");
        }
        Assert.Null(AuditChain.FindFirstBroken(stored));
    }

    [Fact]
    public async Task A_removed_event_breaks_the_link_of_the_next()
    {
        var events = await AppendAndReadAsync(4);
        var removedSecond = events.Where((_, i) => i != 1).ToList();
        Assert.Equal(events[2].Id, AuditChain.FindFirstBroken(removedSecond));
    }
}

/// <summary>The Sec-Fetch-Site field joined the canonical form without changing the hash of any event written before it.</summary>
public sealed class AuditChainFetchSiteTests
{
    private static AuditEvent Sample(string? fetchSite) => new()
    {
        OccurredAt = new DateTimeOffset(2026, 11, 20, 9, 30, 0, TimeSpan.Zero), Action = AuditAction.DocumentDownloaded,
        Outcome = AuditOutcome.Allowed, ActorUserId = Guid.Parse("5a1b0c2d-0000-4000-8000-000000000001"), ActorDisplayName = "Sam Staff",
        UserAgent = "Mozilla/5.0", DocumentId = Guid.Parse("5a1b0c2d-0000-4000-8000-000000000002"), TargetName = "Salaries.xlsx",
        Size = 1234, PreviousHash = AuditChain.GenesisHash, FetchSite = fetchSite,
    };

    /// <summary>The canonical form as it was before FetchSite existed (version 1, 22 fields), written out here on purpose.</summary>
    private static string HashBeforeFetchSite(AuditEvent e) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
        System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new object?[]
        {
            1, e.OccurredAt.UtcTicks, e.Action.ToString(), e.Outcome.ToString(), e.Reason,
            e.ActorUserId, e.ActorSubject, e.ActorDisplayName, e.ActorGroups, e.SessionId, e.CorrelationId,
            e.ClientIp, e.UserAgent, e.DocumentId, e.FolderId, e.TargetPath, e.TargetName, e.ContentHash,
            e.Size, e.Range, e.Changes, e.PreviousHash,
        })));

    [Fact]
    public void An_event_without_fetch_site_keeps_the_hash_it_had_before_the_field_existed() =>
        Assert.Equal(HashBeforeFetchSite(Sample(null)), AuditChain.ComputeHash(Sample(null)));

    [Fact]
    public void The_hash_covers_fetch_site_so_changing_adding_or_removing_it_breaks_the_event()
    {
        var recorded = Sample("cross-site");
        recorded.Hash = AuditChain.ComputeHash(recorded);
        recorded.Id = 1;
        Assert.Null(AuditChain.FindFirstBroken([recorded]));
        foreach (var forged in new string?[] { "same-origin", "none", null })
        {
            var copy = Sample(forged);
            copy.Id = 1;
            copy.Hash = recorded.Hash;
            Assert.Equal(1, AuditChain.FindFirstBroken([copy]));
        }
        Assert.NotEqual(HashBeforeFetchSite(recorded), recorded.Hash);
    }
}

public sealed class SqliteAuditChainTests() : AuditChainTests(DatabaseProvider.Sqlite);

public sealed class PostgresAuditChainTests() : AuditChainTests(DatabaseProvider.PostgreSQL);
