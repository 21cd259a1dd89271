using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Portal.App.Audit;
using Portal.Data.Audit;
using Portal.Data.Database;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Audit;

/// <summary>
/// Issue #25: whoever owns the database drops the triggers, then deletes the newest events, or deletes or re-attributes
/// one and recomputes every hash after it so that the chain holds again. The chain alone says "holds"; checked against
/// the heads the app signed (a key outside the database), verify-audit names what was done, with only the public key.
/// </summary>
public abstract class AuditSignedHeadTests(DatabaseProvider provider) : IAsyncLifetime
{
    private readonly AuditHeadSigner key = AuditHeadSigner.FromPem(AuditHeadSigner.NewPrivateKeyPem());
    private AuditHeadSigner publicKey = null!;
    private readonly AuditCheckpointSigner checkpoints = new(null);
    private readonly string anchorPath = Path.Combine(TestEnvironment.NewTempFolder("anchor"), "audit-heads.jsonl");
    private DataServices data = null!;

    public async Task InitializeAsync()
    {
        data = await DataServices.CreateAsync(provider);
        publicKey = AuditHeadSigner.FromPem(key.PublicKeyPem());
    }

    public async Task DisposeAsync() => await data.DisposeAsync();

    private AuditHeadSigning Signing(int everyEvents = 200, double everySeconds = 1) => new(
        new AuditSigningKeys(key), data.Contexts, data.Audit, [new AuditAnchorFile(anchorPath)],
        Options.Create(new AuditSigningOptions { SignEveryEvents = everyEvents, SignEverySeconds = everySeconds }),
        TimeProvider.System, NullLogger<AuditHeadSigning>.Instance);

    private async Task AppendAsync(int count, string who = "Sam")
    {
        for (var i = 0; i < count; i++)
            await data.Audit.AppendAsync(new AuditEvent
            {
                Action = AuditAction.DocumentDownloaded, Outcome = AuditOutcome.Allowed, ActorDisplayName = who, TargetName = $"salaries {i}.xlsx",
            });
    }

    /// <summary>With only the public key, and the anchor file when asked.</summary>
    private Task<AuditVerificationResult> VerifyAsync(bool withAnchorFile = true) => AuditChainVerification.VerifyAsync(
        data.Contexts, checkpoints, null, default, publicKey, withAnchorFile ? AuditHeadLine.ReadNewest(anchorPath) : []);

    /// <summary>As the database's owner could: drop every trigger on the audit tables, then run <paramref name="sql"/>.</summary>
    private async Task DropTriggersAndRunAsync(string sql)
    {
        await using var db = await data.Contexts.CreateDbContextAsync();
        if (provider == DatabaseProvider.PostgreSQL)
        {
            var triggers = await db.Database.SqlQueryRaw<string>("""
                SELECT format('DROP TRIGGER %I ON %I', tgname, c.relname) AS "Value" FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                WHERE NOT t.tgisinternal AND c.relname IN ('AuditEvents', 'AuditCheckpoints', 'AuditSignedHeads')
                """).ToListAsync();
            foreach (var drop in triggers) await db.Database.ExecuteSqlRawAsync(drop);
        }
        else
        {
            var names = await db.Database.SqlQueryRaw<string>(
                "SELECT name AS \"Value\" FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('AuditEvents', 'AuditCheckpoints', 'AuditSignedHeads')").ToListAsync();
            foreach (var name in names) await db.Database.ExecuteSqlRawAsync($"DROP TRIGGER \"{name}\"");
        }
        if (sql.Length > 0) await db.Database.ExecuteSqlRawAsync(sql);
    }

    /// <summary>Recomputes every link and hash from <paramref name="fromId"/> on, so that the chain alone holds again.</summary>
    private async Task RecomputeChainAsync(long fromId, Action<AuditEvent>? edit = null)
    {
        await using var db = await data.Contexts.CreateDbContextAsync();
        var events = await db.AuditEvents.OrderBy(e => e.Id).ToListAsync();
        var previous = AuditChain.GenesisHash;
        foreach (var e in events)
        {
            if (e.Id >= fromId)
            {
                if (e.Id == fromId) edit?.Invoke(e);
                e.PreviousHash = previous;
                e.Hash = AuditChain.ComputeHash(e);
            }
            previous = e.Hash;
        }
        await db.SaveChangesAsync();
    }

    [Fact]
    public async Task An_intact_log_matches_its_newest_signed_head()
    {
        using var signing = Signing();
        await AppendAsync(10);
        var head = await signing.SignNowAsync();
        await AppendAsync(2);
        var result = await VerifyAsync();
        Assert.True(result.Holds, result.Describe());
        Assert.Equal(10, result.NewestHead!.EventId);
        Assert.Equal(head!.Signature, result.NewestHead.Signature);
        Assert.Equal(2, result.Unanchored);
        Assert.Contains("matches the newest signed head: event #10", result.Describe());
        // The same head is in the database and, as one JSON line, in the anchor file.
        Assert.Single(File.ReadAllLines(anchorPath));
    }

    [Fact]
    public async Task Deleting_the_newest_events_with_the_triggers_dropped_is_named_truncation()
    {
        using var signing = Signing();
        await AppendAsync(10);
        await signing.SignNowAsync();
        await DropTriggersAndRunAsync("DELETE FROM \"AuditEvents\" WHERE \"Id\" > 7;");

        var chainOnly = await AuditChainVerification.VerifyAsync(data.Contexts, checkpoints);
        Assert.True(chainOnly.Holds, "the chain alone cannot see a cut end; that is the gap");
        var result = await VerifyAsync();
        Assert.False(result.Holds);
        Assert.Contains("TRUNCATED", result.Describe());
        Assert.Contains("#8 to #10 were deleted", result.Describe());
    }

    [Fact]
    public async Task Truncation_is_named_from_the_anchor_file_even_when_the_signed_heads_were_deleted_too()
    {
        using var signing = Signing();
        await AppendAsync(10);
        await signing.SignNowAsync();
        await DropTriggersAndRunAsync("DELETE FROM \"AuditEvents\" WHERE \"Id\" > 7; DELETE FROM \"AuditSignedHeads\";");

        Assert.Contains("UNANCHORED", (await VerifyAsync(withAnchorFile: false)).Describe());
        var result = await VerifyAsync();
        Assert.False(result.Holds);
        Assert.Contains("TRUNCATED", result.Describe());
    }

    [Fact]
    public async Task Re_attributing_an_event_and_recomputing_every_hash_is_named_rewriting()
    {
        using var signing = Signing();
        await AppendAsync(10);
        await signing.SignNowAsync();
        await DropTriggersAndRunAsync("");
        await RecomputeChainAsync(4, e => e.ActorDisplayName = "Alex");

        var chainOnly = await AuditChainVerification.VerifyAsync(data.Contexts, checkpoints);
        Assert.True(chainOnly.Holds, "the recomputed chain holds by itself; that is the gap");
        var result = await VerifyAsync(withAnchorFile: false);
        Assert.False(result.Holds);
        Assert.Contains("REWRITTEN: event #10", result.Describe());
    }

    [Fact]
    public async Task Deleting_an_event_renumbering_and_recomputing_is_detected()
    {
        using var signing = Signing();
        await AppendAsync(5);
        await signing.SignNowAsync();
        await AppendAsync(5);
        await signing.SignNowAsync();
        await DropTriggersAndRunAsync("""
            DELETE FROM "AuditEvents" WHERE "Id" = 7;
            UPDATE "AuditEvents" SET "Id" = "Id" + 1000 WHERE "Id" > 7;
            UPDATE "AuditEvents" SET "Id" = "Id" - 1001 WHERE "Id" > 1000;
            """);
        await RecomputeChainAsync(7);

        Assert.True((await AuditChainVerification.VerifyAsync(data.Contexts, checkpoints)).Holds);
        var result = await VerifyAsync();
        Assert.False(result.Holds);
        // The head at #5 still matches; the one at #10 lies past the end of the renumbered log.
        Assert.Contains("the log ends at #9", result.Describe());
    }

    [Fact]
    public async Task A_head_written_into_the_database_without_the_key_is_not_believed()
    {
        using var signing = Signing();
        await AppendAsync(10);
        await signing.SignNowAsync();
        await DropTriggersAndRunAsync("DELETE FROM \"AuditEvents\" WHERE \"Id\" > 7; DELETE FROM \"AuditSignedHeads\";");
        // The owner signs the cut log with a key of their own and writes that head into the database.
        using var attackerKey = AuditHeadSigner.FromPem(AuditHeadSigner.NewPrivateKeyPem());
        await using (var db = await data.Contexts.CreateDbContextAsync())
        {
            var end = await db.AuditEvents.OrderByDescending(e => e.Id).FirstAsync();
            var forged = attackerKey.Sign(end.Id + 3, new string('a', 64), DateTimeOffset.UtcNow);
            forged.KeyId = key.KeyId; // claims to be the portal's
            db.AuditSignedHeads.Add(forged);
            await db.SaveChangesAsync();
        }
        var result = await VerifyAsync();
        Assert.False(result.Holds);
        Assert.Contains("FORGED", result.Describe());
        Assert.Contains("TRUNCATED", result.Describe()); // from the anchor file's genuine head
    }

    [Fact]
    public async Task The_signer_signs_every_N_events_and_within_a_second_and_at_stop()
    {
        var signing = Signing(everyEvents: 5, everySeconds: 0.5);
        await signing.StartAsync(default);
        await AppendAsync(12);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (signing.LastSigned?.EventId != 12 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(12, signing.LastSigned?.EventId);
        await AppendAsync(1);
        await signing.StopAsync(default);
        Assert.Equal(13, signing.LastSigned?.EventId);
        signing.Dispose();
        Assert.True((await VerifyAsync()).Holds);
    }
}

public sealed class SqliteAuditSignedHeadTests() : AuditSignedHeadTests(DatabaseProvider.Sqlite);

public sealed class PostgresAuditSignedHeadTests() : AuditSignedHeadTests(DatabaseProvider.PostgreSQL);
