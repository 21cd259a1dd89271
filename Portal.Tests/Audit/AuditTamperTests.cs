using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Data.Audit;
using Portal.Data.Database;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Audit;

/// <summary>
/// Someone with database access changes the log directly (switching the triggers off first, as they would have to):
/// verification, streaming the whole chain, names the first broken event. And retention, the one permitted removal,
/// leaves a signed checkpoint from which the rest still verifies.
/// </summary>
public abstract class AuditTamperTests(DatabaseProvider provider) : IAsyncLifetime
{
    private static readonly string Key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private readonly AuditCheckpointSigner signer = new(Key);
    private DataServices data = null!;

    public async Task InitializeAsync() => data = await DataServices.CreateAsync(provider);
    public async Task DisposeAsync() => await data.DisposeAsync();

    private async Task AppendAsync(int count, TimeProvider? clock = null, string prefix = "doc")
    {
        await using var log = new AuditLog(data.Contexts, clock ?? TimeProvider.System, NullLogger<AuditLog>.Instance);
        for (var i = 0; i < count; i++)
            await log.AppendAsync(new AuditEvent { Action = AuditAction.DocumentDownloaded, Outcome = AuditOutcome.Allowed, TargetName = $"{prefix} {i}.pdf", Size = i });
    }

    private Task<AuditVerificationResult> VerifyAsync() => AuditChainVerification.VerifyAsync(data.Contexts, signer);

    /// <summary>Runs SQL with the append-only triggers switched off, as an attacker with database rights could.</summary>
    private async Task TamperAsync(string sql)
    {
        await using var db = await data.Contexts.CreateDbContextAsync();
        if (provider == DatabaseProvider.PostgreSQL)
            await db.Database.ExecuteSqlRawAsync($"""
                ALTER TABLE "AuditEvents" DISABLE TRIGGER USER; ALTER TABLE "AuditCheckpoints" DISABLE TRIGGER USER;
                {sql}
                ALTER TABLE "AuditEvents" ENABLE TRIGGER USER; ALTER TABLE "AuditCheckpoints" ENABLE TRIGGER USER;
                """);
        else
        {
            // SQLite cannot switch a trigger off: drop them, tamper, and put them back as the migration made them.
            var triggers = await db.Database.SqlQueryRaw<string>(
                "SELECT sql AS \"Value\" FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('AuditEvents', 'AuditCheckpoints')").ToListAsync();
            var names = await db.Database.SqlQueryRaw<string>(
                "SELECT name AS \"Value\" FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('AuditEvents', 'AuditCheckpoints')").ToListAsync();
            foreach (var name in names) await db.Database.ExecuteSqlRawAsync($"DROP TRIGGER \"{name}\"");
            await db.Database.ExecuteSqlRawAsync(sql);
            foreach (var trigger in triggers) await db.Database.ExecuteSqlRawAsync(trigger);
        }
    }

    [Fact]
    public async Task Time_never_goes_backwards_along_the_chain_even_with_a_clock_behind()
    {
        await AppendAsync(2);
        await AppendAsync(2, new FakeClock(DateTimeOffset.UtcNow.AddHours(-1)), "from an instance whose clock is behind");
        await using var db = await data.Contexts.CreateDbContextAsync();
        var times = await db.AuditEvents.OrderBy(e => e.Id).Select(e => e.OccurredAt).ToListAsync();
        Assert.Equal(times.Order(), times);
        Assert.True((await VerifyAsync()).Holds);
    }

    [Fact]
    public async Task An_intact_chain_verifies()
    {
        await AppendAsync(20);
        var result = await VerifyAsync();
        Assert.True(result.Holds, result.Describe());
        Assert.Equal(20, result.Verified);
    }

    [Fact]
    public async Task An_edited_event_is_named()
    {
        await AppendAsync(10);
        await TamperAsync("UPDATE \"AuditEvents\" SET \"TargetName\" = 'forged.pdf' WHERE \"Id\" = 5;");
        var result = await VerifyAsync();
        Assert.Equal(5, result.FirstBrokenId);
        Assert.Equal(4, result.Verified);
        Assert.Contains("edited", result.Describe());
    }

    [Fact]
    public async Task A_deleted_event_is_named_by_the_one_after_it()
    {
        await AppendAsync(10);
        await TamperAsync("DELETE FROM \"AuditEvents\" WHERE \"Id\" = 5;");
        var result = await VerifyAsync();
        Assert.Equal(6, result.FirstBrokenId);
        Assert.Equal(4, result.Verified);
    }

    [Fact]
    public async Task An_inserted_event_with_a_valid_link_and_hash_breaks_the_link_of_the_next()
    {
        await AppendAsync(10);
        // Make room at #5 and insert a forged event that links correctly to #4 and hashes correctly itself.
        await using (var db = await data.Contexts.CreateDbContextAsync())
        {
            var fourth = await db.AuditEvents.AsNoTracking().SingleAsync(e => e.Id == 4);
            var forged = new AuditEvent
            {
                Id = 5, OccurredAt = fourth.OccurredAt, Action = AuditAction.DocumentDownloaded, Outcome = AuditOutcome.Allowed,
                TargetName = "alibi.pdf", PreviousHash = fourth.Hash,
            };
            forged.Hash = AuditChain.ComputeHash(forged);
            var time = provider == DatabaseProvider.PostgreSQL ? $"'{forged.OccurredAt.UtcDateTime:O}'::timestamptz" : forged.OccurredAt.UtcTicks.ToString();
            // Shift ids from the top down so the primary key never collides.
            await TamperAsync($"""
                UPDATE "AuditEvents" SET "Id" = "Id" + 1000 WHERE "Id" >= 5;
                UPDATE "AuditEvents" SET "Id" = "Id" - 999 WHERE "Id" >= 1005;
                INSERT INTO "AuditEvents" ("Id", "OccurredAt", "Action", "Outcome", "TargetName", "PreviousHash", "Hash")
                VALUES (5, {time}, 'DocumentDownloaded', 'Allowed', 'alibi.pdf', '{forged.PreviousHash}', '{forged.Hash}');
                """);
        }
        var result = await VerifyAsync();
        Assert.Equal(6, result.FirstBrokenId);
        Assert.Equal(5, result.Verified);
        Assert.Contains("link", result.Describe());
    }

    [Fact]
    public async Task Two_events_swapped_are_named_at_the_first()
    {
        await AppendAsync(10);
        await TamperAsync("""
            UPDATE "AuditEvents" SET "Id" = 1000 WHERE "Id" = 5;
            UPDATE "AuditEvents" SET "Id" = 5 WHERE "Id" = 6;
            UPDATE "AuditEvents" SET "Id" = 6 WHERE "Id" = 1000;
            """);
        var result = await VerifyAsync();
        Assert.Equal(5, result.FirstBrokenId);
        Assert.Equal(4, result.Verified);
    }

    [Theory]
    [InlineData("UPDATE \"AuditEvents\" SET \"Reason\" = 'x' WHERE \"Id\" = 3")]
    [InlineData("DELETE FROM \"AuditEvents\" WHERE \"Id\" = 3")]
    [InlineData("UPDATE \"AuditCheckpoints\" SET \"RemovedCount\" = 0")]
    [InlineData("DELETE FROM \"AuditCheckpoints\"")]
    public async Task The_triggers_refuse_changes_and_removals_outside_retention(string sql)
    {
        var clock = new FakeClock(DateTimeOffset.UtcNow.AddYears(-7));
        await AppendAsync(2, clock, "old");
        await AppendAsync(3);
        await AuditRetention.ApplyAsync(data.Contexts, signer, TimeProvider.System, new AuditRetentionPeriod(6));
        await using var db = await data.Contexts.CreateDbContextAsync();

        var error = await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => db.Database.ExecuteSqlRawAsync(sql));

        Assert.Contains("append-only", error.Message);
        Assert.True((await VerifyAsync()).Holds);
        Assert.Equal(3, await db.AuditEvents.CountAsync());
    }

    [Fact]
    public async Task Retention_removes_old_events_leaves_a_signed_checkpoint_and_the_rest_still_verifies()
    {
        var clock = new FakeClock(DateTimeOffset.UtcNow.AddYears(-7));
        await AppendAsync(10, clock, "old");
        await AppendAsync(5, null, "recent");

        var result = await AuditRetention.ApplyAsync(data.Contexts, signer, TimeProvider.System, new AuditRetentionPeriod(6));

        Assert.Equal(10, result.RemovedCount);
        Assert.Equal(10, result.Checkpoint!.LastRemovedId);
        await using (var db = await data.Contexts.CreateDbContextAsync())
            Assert.Equal([11L, 12, 13, 14, 15], await db.AuditEvents.OrderBy(e => e.Id).Select(e => e.Id).ToListAsync());
        var verified = await VerifyAsync();
        Assert.True(verified.Holds, verified.Describe());
        Assert.Equal(5, verified.Verified);
        Assert.Contains("from the signed retention checkpoint after event #10", verified.Describe());

        // Appending goes on from #16, and an edit after the checkpoint is still named.
        await AppendAsync(1);
        await TamperAsync("UPDATE \"AuditEvents\" SET \"ClientIp\" = '10.9.9.9' WHERE \"Id\" = 13;");
        Assert.Equal(13, (await VerifyAsync()).FirstBrokenId);

        // Running it again removes nothing more.
        Assert.Equal(0, (await AuditRetention.ApplyAsync(data.Contexts, signer, TimeProvider.System, new AuditRetentionPeriod(6))).RemovedCount);
    }

    [Fact]
    public async Task When_retention_removed_everything_the_chain_goes_on_from_the_checkpoint()
    {
        var clock = new FakeClock(DateTimeOffset.UtcNow.AddYears(-7));
        await AppendAsync(4, clock, "old");
        await AuditRetention.ApplyAsync(data.Contexts, signer, TimeProvider.System, new AuditRetentionPeriod(6));
        await AppendAsync(2);
        await using var db = await data.Contexts.CreateDbContextAsync();
        Assert.Equal([5L, 6], await db.AuditEvents.OrderBy(e => e.Id).Select(e => e.Id).ToListAsync());
        Assert.True((await VerifyAsync()).Holds);
    }

    [Fact]
    public async Task A_forged_checkpoint_that_hides_recent_events_fails_verification()
    {
        var clock = new FakeClock(DateTimeOffset.UtcNow.AddYears(-7));
        await AppendAsync(3, clock, "old");
        await AppendAsync(6);
        await AuditRetention.ApplyAsync(data.Contexts, signer, TimeProvider.System, new AuditRetentionPeriod(6));
        await using (var db = await data.Contexts.CreateDbContextAsync())
        {
            // The attacker writes a checkpoint after #6 (signed with a key of their own) and deletes #4 to #6.
            var sixth = await db.AuditEvents.AsNoTracking().SingleAsync(e => e.Id == 6);
            var forged = new AuditCheckpoint { Id = 2, CreatedAt = DateTimeOffset.UtcNow, Cutoff = DateTimeOffset.UtcNow, LastRemovedId = 6, LastRemovedHash = sixth.Hash, RemovedCount = 3 };
            forged.Signature = new AuditCheckpointSigner(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))).Sign(forged);
            db.AuditCheckpoints.Add(forged);
            await db.SaveChangesAsync();
            // No trigger needs switching off for that delete: the forged checkpoint covers it, which is why it is signed.
            await db.Database.ExecuteSqlRawAsync("DELETE FROM \"AuditEvents\" WHERE \"Id\" <= 6");
        }

        var result = await VerifyAsync();

        Assert.False(result.Holds);
        Assert.Contains("checkpoint #2 (after event #6) has a wrong signature", result.Describe());
    }

    [Fact]
    public async Task Retention_refuses_to_remove_a_broken_stretch_and_without_a_key()
    {
        var clock = new FakeClock(DateTimeOffset.UtcNow.AddYears(-7));
        await AppendAsync(5, clock, "old");
        await AppendAsync(2);

        var noKey = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            AuditRetention.ApplyAsync(data.Contexts, new AuditCheckpointSigner(null), TimeProvider.System, new AuditRetentionPeriod(6)));
        Assert.Contains("Audit:CheckpointKey is not set", noKey.Message);

        await TamperAsync("UPDATE \"AuditEvents\" SET \"TargetName\" = 'forged.pdf' WHERE \"Id\" = 3;");
        var broken = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            AuditRetention.ApplyAsync(data.Contexts, signer, TimeProvider.System, new AuditRetentionPeriod(6)));
        Assert.Contains("broken at event #3", broken.Message);
        await using var db = await data.Contexts.CreateDbContextAsync();
        Assert.Equal(7, await db.AuditEvents.CountAsync());
        Assert.Equal(0, await db.AuditCheckpoints.CountAsync());
    }
}

public sealed class SqliteAuditTamperTests() : AuditTamperTests(DatabaseProvider.Sqlite);

public sealed class PostgresAuditTamperTests() : AuditTamperTests(DatabaseProvider.PostgreSQL);
