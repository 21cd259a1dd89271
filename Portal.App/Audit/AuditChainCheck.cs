using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Data.Audit;

namespace Portal.App.Audit;

/// <summary>
/// The whole check of the audit log, as verify-audit and the audit log page run it: the chain from its signed retention
/// checkpoint, then the log against the newest signed heads in the database and in the anchor file, with the public
/// half of the key (a chain checked alone cannot see its newest events deleted).
/// </summary>
public sealed class AuditChainCheck(
    IDbContextFactory<PortalDbContext> contexts, AuditCheckpointSigner checkpoints, AuditSigningKeys keys, IEnumerable<AuditAnchorFile> anchorFiles)
{
    /// <summary>The anchor file heads are read from (Audit:AnchorFile), if one is configured.</summary>
    public AuditAnchorFile? Anchor { get; } = anchorFiles.FirstOrDefault();

    /// <returns>What was found, and the anchor file's newest heads it was checked against.</returns>
    public async Task<(AuditVerificationResult Result, IReadOnlyCollection<AuditSignedHead> Anchored)> RunAsync(Action<long>? progress, CancellationToken ct)
    {
        IReadOnlyCollection<AuditSignedHead> anchored = Anchor is not null && File.Exists(Anchor.Path) ? AuditHeadLine.ReadNewest(Anchor.Path) : [];
        var result = await AuditChainVerification.VerifyAsync(contexts, checkpoints, progress, ct, keys.Verifier, anchored);
        return (result, anchored);
    }
}
