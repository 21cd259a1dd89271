using Microsoft.EntityFrameworkCore;
using Portal.App.Audit;
using Portal.Data;
using Portal.Data.Audit;

namespace Portal.App.Hosting;

/// <summary>
/// `Portal.App verify-audit`: reads the whole audit log as a stream, in id order (from the signed retention checkpoint
/// if retention removed old events), and checks every link and hash; then, with the public key (Audit:VerifyKeyPath, or
/// the signing key's own), checks the log against the signed heads in the database and in the anchor file
/// (Audit:AnchorFile), naming truncation, deletion and rewriting that a recomputed chain would hide. Exit code 0 when the chain holds, 2 naming the
/// first event that does not. The run is itself recorded (AuditChainVerified).
/// </summary>
public static class AuditVerification
{
    public const string Command = "verify-audit";

    public static async Task<int> RunAsync(IServiceProvider services, TextWriter output, CancellationToken ct = default)
    {
        var keys = services.GetRequiredService<AuditSigningKeys>();
        var check = services.GetRequiredService<AuditChainCheck>();
        var anchor = check.Anchor;
        var (result, anchored) = await check.RunAsync(null, ct);
        await output.WriteLineAsync(result.Describe());
        if (keys.Verifier is null)
            await output.WriteLineAsync("NOT checked against signed heads: set Audit:VerifyKeyPath to the public key (audit-signing-key.pub.pem); " +
                                        "without it, whoever owns the database could have deleted or rewritten events undetected.");
        else if (anchor is null)
            await output.WriteLineAsync("Checked against the signed heads in the database only: set Audit:AnchorFile to check against the anchor file too.");
        else await output.WriteLineAsync($"Anchor file: {anchor.Path} ({anchored.Count} newest heads read).");
        await RecordAsync(services, result, "command line", ct);
        return result.Holds ? 0 : 2;
    }

    /// <summary>Appends AuditChainVerified with what was found (after the check: the record does not affect it).</summary>
    internal static Task RecordAsync(IServiceProvider services, AuditVerificationResult result, string where, CancellationToken ct,
        System.Security.Claims.ClaimsPrincipal? user = null, HttpContext? http = null) =>
        RecordAsync(services.GetRequiredService<AuditLog>(), result, where, ct, user, http);

    /// <summary>The same, for a component that has the audit log injected (no service lookup).</summary>
    internal static async Task RecordAsync(AuditLog audit, AuditVerificationResult result, string where, CancellationToken ct,
        System.Security.Claims.ClaimsPrincipal? user = null, HttpContext? http = null)
    {
        var e = AuditEventFactory.For(user ?? new System.Security.Claims.ClaimsPrincipal(), AuditAction.AuditChainVerified,
            AuditOutcome.Allowed, $"Verified from the {where}: {result.Describe()}", http);
        if (user is null) e.ActorDisplayName = $"{Environment.UserName} (operator, {where})";
        await audit.AppendAsync(e, ct);
    }
}

/// <summary>
/// `Portal.App apply-retention`: removes audit events older than the retention period (Audit:RetentionYears, default 6,
/// plus Audit:RetentionDays) through <see cref="AuditRetention"/>, which leaves a signed checkpoint. Recorded as
/// AuditRetentionApplied. Exit code 0 on success (also when nothing was old enough), 1 when refused.
/// </summary>
public static class AuditRetentionCommand
{
    public const string Command = "apply-retention";

    public static async Task<int> RunAsync(IServiceProvider services, TextWriter output, CancellationToken ct = default)
    {
        var config = services.GetRequiredService<IConfiguration>();
        var period = new AuditRetentionPeriod(config.GetValue("Audit:RetentionYears", 6), config.GetValue("Audit:RetentionDays", 0));
        AuditRetentionResult result;
        try
        {
            result = await AuditRetention.ApplyAsync(services.GetRequiredService<IDbContextFactory<PortalDbContext>>(),
                services.GetRequiredService<AuditCheckpointSigner>(), services.GetRequiredService<TimeProvider>(), period, ct);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentOutOfRangeException)
        {
            await output.WriteLineAsync($"Retention refused: {e.Message}");
            return 1;
        }
        await output.WriteLineAsync($"Retention period {period}. {result.Message}");
        var record = AuditEventFactory.For(new System.Security.Claims.ClaimsPrincipal(), AuditAction.AuditRetentionApplied, AuditOutcome.Allowed,
            $"Retention period {period}. {result.Message}", null);
        record.ActorDisplayName = $"{Environment.UserName} (operator, command line)";
        if (result.Checkpoint is { } c)
            record.Changes = System.Text.Json.JsonSerializer.Serialize(new
            {
                before = new { firstId = c.LastRemovedId - c.RemovedCount + 1 },
                after = new { firstId = c.LastRemovedId + 1, checkpoint = c.Id, c.LastRemovedId, c.LastRemovedHash, c.RemovedCount },
            });
        await services.GetRequiredService<AuditLog>().AppendAsync(record, ct);
        return 0;
    }
}
