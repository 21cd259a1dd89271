namespace Portal.Data.Audit;

/// <summary>
/// The head of the chain as the app signed it: event <see cref="EventId"/> had hash <see cref="EventHash"/> at
/// <see cref="SignedAt"/>. Signed with the app's ECDSA P-256 key (its private half never enters the database), kept
/// here and in the anchors outside the database (see <see cref="AuditHeadSigner"/>). Whoever owns the database can
/// delete or recompute events, but cannot make a signature for the result: verify-audit then names what was done.
/// </summary>
public class AuditSignedHead
{
    public long Id { get; set; }
    public long EventId { get; set; }
    public string EventHash { get; set; } = "";
    public DateTimeOffset SignedAt { get; set; }
    /// <summary>Which key signed (the first 16 hex digits of the SHA-256 of its public key), so keys can be rotated.</summary>
    public string KeyId { get; set; } = "";
    /// <summary>ECDSA P-256 over SHA-256 of <see cref="AuditHeadSigner.Canonical"/>, IEEE P1363 form, base64.</summary>
    public string Signature { get; set; } = "";
}
