using Portal.App.Hosting;
using Portal.Data.Audit;

namespace Portal.App.Audit;

/// <summary>
/// The app's audit signing key (Audit:SigningKeyPath, an ECDSA P-256 private key in PEM, kept outside the database) and
/// the key verify-audit checks with (Audit:VerifyKeyPath, the public half; or the signing key's own). In Development,
/// without a configured key, one is generated into App_Data (audit-signing-key.pem, with its .pub.pem beside it).
/// Outside Development the server refuses to start without one (<see cref="AuditHeadSigning"/>); the operators'
/// commands need only the public key.
/// </summary>
public sealed class AuditSigningKeys
{
    public AuditHeadSigner? Signer { get; }
    public AuditHeadSigner? Verifier { get; }
    /// <summary>Why there is no signer, in one line (null when there is one).</summary>
    public string? Missing { get; }

    /// <summary>A given key pair (tests, tools).</summary>
    public AuditSigningKeys(AuditHeadSigner signer) { Signer = signer; Verifier = signer; }

    public AuditSigningKeys(IConfiguration config, IHostEnvironment env)
    {
        var path = config["Audit:SigningKeyPath"];
        if (string.IsNullOrWhiteSpace(path) && env.IsDevelopment())
            path = GenerateForDevelopment(Path.Combine(env.ContentRootPath, "App_Data"));
        if (!string.IsNullOrWhiteSpace(path))
        {
            try { Signer = AuditHeadSigner.FromPemFile(path); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or System.Security.Cryptography.CryptographicException)
            {
                Missing = $"Audit:SigningKeyPath {path} is not a readable ECDSA P-256 private key in PEM ({e.Message}).";
            }
            if (Signer is { CanSign: false }) { Missing = $"Audit:SigningKeyPath {path} holds a public key; the app needs the private key."; Signer = null; }
        }
        else Missing = "Audit:SigningKeyPath is not set. The app signs the head of the audit chain with an ECDSA P-256 key kept outside " +
                       "the database: create one with `openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out audit-signing-key.pem` and set its path.";
        var verifyPath = config["Audit:VerifyKeyPath"];
        Verifier = !string.IsNullOrWhiteSpace(verifyPath) ? AuditHeadSigner.FromPemFile(verifyPath) : Signer;
    }

    private static string GenerateForDevelopment(string folder)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "audit-signing-key.pem");
        if (File.Exists(path)) return path;
        var temp = path + "." + Guid.NewGuid().ToString("N");
        File.WriteAllText(temp, AuditHeadSigner.NewPrivateKeyPem());
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        try { File.Move(temp, path); } // another process may have made it first: keep theirs
        catch (IOException) { File.Delete(temp); }
        using var key = AuditHeadSigner.FromPemFile(path);
        File.WriteAllText(Path.ChangeExtension(path, ".pub.pem"), key.PublicKeyPem());
        return path;
    }
}

/// <summary>When to sign (Audit:SignEveryEvents, Audit:SignEverySeconds) and where else the heads go.</summary>
public sealed class AuditSigningOptions
{
    /// <summary>Sign once this many events were committed since the last head…</summary>
    public int SignEveryEvents { get; set; } = 200;
    /// <summary>…or once this long has passed with events unsigned, whichever comes first.</summary>
    public double SignEverySeconds { get; set; } = 1;
    /// <summary>The append-only anchor file; default App_Data/audit-heads.jsonl in Development, required elsewhere.</summary>
    public string? AnchorFile { get; set; }
    /// <summary>host:port of a syslog receiver (RFC 5424 over TCP) that also gets each head; optional.</summary>
    public string? AnchorSyslog { get; set; }
    /// <summary>A bucket with object lock that also gets each head (Storage:S3 credentials); optional.</summary>
    public string? AnchorBucket { get; set; }
    /// <summary>How long the bucket keeps each head locked (compliance mode), in days.</summary>
    public int AnchorBucketRetentionDays { get; set; } = 365 * 7;
}
