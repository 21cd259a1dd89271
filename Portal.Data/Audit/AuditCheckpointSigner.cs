using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Portal.Data.Audit;

/// <summary>
/// Signs and checks retention checkpoints with HMAC-SHA256. The key comes from settings (Audit:CheckpointKey), not
/// from the database: whoever can write the database but not read the app's settings cannot forge a checkpoint to
/// hide a deleted stretch of the log. (HMAC rather than a key pair: the app both signs and verifies, and one secret
/// in the secret store is what operators already manage; see README "Audit retention".)
/// </summary>
public sealed class AuditCheckpointSigner
{
    private readonly byte[]? _key;

    /// <param name="base64Key">At least 32 bytes, base64; null when not configured (retention then refuses to run).</param>
    public AuditCheckpointSigner(string? base64Key)
    {
        if (string.IsNullOrWhiteSpace(base64Key)) return;
        byte[] key;
        try { key = Convert.FromBase64String(base64Key.Trim()); }
        catch (FormatException) { throw new ArgumentException("Audit:CheckpointKey is not base64."); }
        if (key.Length < 32) throw new ArgumentException("Audit:CheckpointKey must be at least 32 bytes (44 base64 characters).");
        _key = key;
    }

    public bool IsConfigured => _key is not null;

    public string Sign(AuditCheckpoint c)
    {
        if (_key is null) throw new InvalidOperationException("Audit:CheckpointKey is not set: checkpoints cannot be signed or checked.");
        return Convert.ToHexStringLower(HMACSHA256.HashData(_key, Canonical(c)));
    }

    public bool Verify(AuditCheckpoint c) =>
        _key is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(c)), Encoding.ASCII.GetBytes(c.Signature));

    private static byte[] Canonical(AuditCheckpoint c) => JsonSerializer.SerializeToUtf8Bytes(new object[]
    {
        1, c.Id, c.CreatedAt.UtcTicks, c.Cutoff.UtcTicks, c.LastRemovedId, c.LastRemovedHash, c.RemovedCount,
    });
}
