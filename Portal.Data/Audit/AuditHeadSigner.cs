using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Portal.Data.Audit;

/// <summary>
/// Signs and checks heads of the chain (and export manifests) with ECDSA P-256. The app holds the private key (a PEM
/// file named by Audit:SigningKeyPath, never in the database); verify-audit and verify-export need only the public
/// key. A key pair rather than the checkpoints' HMAC: the one who checks must not be able to sign.
/// </summary>
public sealed class AuditHeadSigner : IDisposable
{
    private readonly ECDsa _key;

    public bool CanSign { get; }
    public string KeyId { get; }

    private AuditHeadSigner(ECDsa key, bool canSign)
    {
        _key = key;
        CanSign = canSign;
        KeyId = KeyIdOf(key);
    }

    /// <summary>From a PEM file: a private key ("EC PRIVATE KEY" or PKCS#8) signs and verifies, a public key only verifies.</summary>
    public static AuditHeadSigner FromPemFile(string path) => FromPem(File.ReadAllText(path));

    public static AuditHeadSigner FromPem(string pem)
    {
        var key = ECDsa.Create();
        key.ImportFromPem(pem);
        if (key.KeySize != 256) { key.Dispose(); throw new ArgumentException("The audit signing key must be ECDSA P-256."); }
        var canSign = pem.Contains("PRIVATE KEY", StringComparison.Ordinal);
        return new AuditHeadSigner(key, canSign);
    }

    /// <summary>A new P-256 key pair (Development, or a first set-up): its private key as PEM.</summary>
    public static string NewPrivateKeyPem()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return key.ExportPkcs8PrivateKeyPem();
    }

    /// <summary>The public half, to hand to whoever verifies.</summary>
    public string PublicKeyPem() => _key.ExportSubjectPublicKeyInfoPem();

    private static string KeyIdOf(ECDsa key) =>
        Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))[..16];

    /// <summary>What is signed for a head: a JSON array of its fields in a fixed order, the time as UTC ticks.</summary>
    public static byte[] Canonical(AuditSignedHead h) =>
        JsonSerializer.SerializeToUtf8Bytes(new object[] { "portal-audit-head", 1, h.EventId, h.EventHash, h.SignedAt.UtcTicks, h.KeyId });

    public AuditSignedHead Sign(long eventId, string eventHash, DateTimeOffset at)
    {
        var head = new AuditSignedHead
        {
            EventId = eventId, EventHash = eventHash, KeyId = KeyId,
            SignedAt = new DateTimeOffset(at.UtcTicks - at.UtcTicks % 10, TimeSpan.Zero),
        };
        head.Signature = SignBytes(Canonical(head));
        return head;
    }

    public bool Verify(AuditSignedHead head) => head.KeyId == KeyId && VerifyBytes(Canonical(head), head.Signature);

    public string SignBytes(byte[] data)
    {
        if (!CanSign) throw new InvalidOperationException("This is a public key: it verifies, it cannot sign.");
        return Convert.ToBase64String(_key.SignData(data, HashAlgorithmName.SHA256));
    }

    public bool VerifyBytes(byte[] data, string? signature)
    {
        if (string.IsNullOrEmpty(signature)) return false;
        byte[] raw;
        try { raw = Convert.FromBase64String(signature); }
        catch (FormatException) { return false; }
        return _key.VerifyData(data, raw, HashAlgorithmName.SHA256);
    }

    public void Dispose() => _key.Dispose();
}

/// <summary>One signed head as a JSON line, the form every anchor outside the database keeps.</summary>
public static class AuditHeadLine
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string Format(AuditSignedHead h) => JsonSerializer.Serialize(new
    {
        type = "portal-audit-head", eventId = h.EventId, eventHash = h.EventHash,
        signedAt = h.SignedAt.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        keyId = h.KeyId, signature = h.Signature,
    });

    private sealed record Line(string? Type, long EventId, string? EventHash, DateTimeOffset SignedAt, string? KeyId, string? Signature);

    /// <summary>The head on a line, or null for a line that is not one (a torn last line, or another program's).</summary>
    public static AuditSignedHead? Parse(string line)
    {
        try
        {
            var l = JsonSerializer.Deserialize<Line>(line, Json);
            if (l is null || l.Type != "portal-audit-head" || l.EventHash is null || l.KeyId is null || l.Signature is null) return null;
            return new AuditSignedHead { EventId = l.EventId, EventHash = l.EventHash, SignedAt = l.SignedAt.ToUniversalTime(), KeyId = l.KeyId, Signature = l.Signature };
        }
        catch (JsonException) { return null; }
    }

    /// <summary>
    /// The newest heads (by event id) in an anchor file, at most <paramref name="keep"/>; lines that are not heads are
    /// skipped, signatures are checked by the verifier. Flat memory for a file of years of heads.
    /// </summary>
    public static List<AuditSignedHead> ReadNewest(string path, int keep = 32)
    {
        var newest = new PriorityQueue<AuditSignedHead, long>();
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete), Encoding.UTF8);
        while (reader.ReadLine() is { } line)
        {
            if (Parse(line) is not { } head) continue;
            if (newest.Count < keep) newest.Enqueue(head, head.EventId);
            else if (head.EventId > newest.Peek().EventId) newest.EnqueueDequeue(head, head.EventId);
        }
        return newest.UnorderedItems.Select(i => i.Element).ToList();
    }
}
