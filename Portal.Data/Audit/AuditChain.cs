using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Portal.Data.Audit;

/// <summary>The tamper-evident chain: each event's hash covers its canonical form and the previous hash.</summary>
public static class AuditChain
{
    public const string GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

    /// <summary>
    /// Canonical form: a JSON array of the fields in a fixed order, the time as UTC ticks. The database id is
    /// left out (it is assigned on insert); order is carried by <see cref="AuditEvent.PreviousHash"/>.
    /// </summary>
    public static string ComputeHash(AuditEvent e)
    {
        object?[] fields =
        [
            1, // canonical form version
            e.OccurredAt.UtcTicks, e.Action.ToString(), e.Outcome.ToString(), e.Reason,
            e.ActorUserId, e.ActorSubject, e.ActorDisplayName, e.ActorGroups, e.SessionId, e.CorrelationId,
            e.ClientIp, e.UserAgent, e.DocumentId, e.FolderId, e.TargetPath, e.TargetName, e.ContentHash,
            e.Size, e.Range, e.PreviousHash,
        ];
        var canonical = JsonSerializer.SerializeToUtf8Bytes(fields);
        return Convert.ToHexStringLower(SHA256.HashData(canonical));
    }

    /// <summary>
    /// Id of the first event whose id, link or hash does not hold (ids are consecutive from 1), or null when
    /// the chain verifies.
    /// </summary>
    public static long? FindFirstBroken(IEnumerable<AuditEvent> eventsInIdOrder)
    {
        var previous = GenesisHash;
        var expectedId = 1L;
        foreach (var e in eventsInIdOrder)
        {
            if (e.Id != expectedId || e.PreviousHash != previous || ComputeHash(e) != e.Hash) return e.Id;
            previous = e.Hash;
            expectedId++;
        }
        return null;
    }
}
