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
            e.Size, e.Range, e.Changes, e.PreviousHash,
        ];
        // Fields added later are appended only when set, so every event written before they existed (all of them null)
        // keeps its hash and the version above stays 1. The array's length tells the forms apart: an old form has 22
        // elements, one with FetchSite 23, so no value can pass for another.
        if (e.FetchSite is not null) fields = [.. fields, e.FetchSite];
        var canonical = JsonSerializer.SerializeToUtf8Bytes(fields);
        return Convert.ToHexStringLower(SHA256.HashData(canonical));
    }

    /// <summary>
    /// Id of the first event whose id, link or hash does not hold (ids are consecutive from 1), or null when
    /// the chain verifies.
    /// </summary>
    public static long? FindFirstBroken(IEnumerable<AuditEvent> eventsInIdOrder)
    {
        var verifier = new Verifier();
        foreach (var e in eventsInIdOrder)
            if (!verifier.Accept(e)) return e.Id;
        return null;
    }

    /// <summary>Checks a chain one event at a time, so a whole log can be verified as a stream.</summary>
    public sealed class Verifier
    {
        private readonly long _firstId;
        private string _previous;
        private long _expectedId;

        /// <summary>From the start of the chain, or from a retention checkpoint (the last removed id and its hash).</summary>
        public Verifier(long afterId = 0, string afterHash = GenesisHash)
        {
            _firstId = afterId + 1;
            _expectedId = afterId + 1;
            _previous = afterHash;
        }

        /// <summary>How many events verified so far.</summary>
        public long Verified => _expectedId - _firstId;

        /// <summary>The hash of the last event that verified (the chain head once all were accepted).</summary>
        public string LastHash => _previous;

        /// <summary>False when this event's id, link to the one before, or own hash does not hold.</summary>
        public bool Accept(AuditEvent e)
        {
            if (e.Id != _expectedId || e.PreviousHash != _previous || ComputeHash(e) != e.Hash) return false;
            _previous = e.Hash;
            _expectedId++;
            return true;
        }
    }
}
