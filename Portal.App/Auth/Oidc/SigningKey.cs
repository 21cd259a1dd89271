using System.Security.Cryptography;

namespace Portal.App.Auth.Oidc;

/// <summary>A public key from the provider's JWKS that verifies token signatures (RSA, or EC on P-256).</summary>
public sealed class SigningKey
{
    public const string Rsa = "RSA";
    public const string EllipticCurve = "EC";

    // RSA and ECDsa instances promise nothing about concurrent use, and sign-ins may be verified in parallel.
    private readonly Lock _lock = new();

    internal SigningKey(string? kid, string keyType, AsymmetricAlgorithm key, string? algorithm)
    {
        Kid = kid;
        KeyType = keyType;
        Key = key;
        Algorithm = algorithm;
    }

    public string? Kid { get; }

    /// <summary>"RSA" or "EC" (always P-256: other curves are not loaded).</summary>
    public string KeyType { get; }

    /// <summary>An <see cref="RSA"/> or <see cref="ECDsa"/> holding the public key only.</summary>
    public AsymmetricAlgorithm Key { get; }

    /// <summary>The JWK's "alg" when the provider restricted the key to one algorithm, else null.</summary>
    public string? Algorithm { get; }

    /// <summary>Whether this key may verify a signature made with <paramref name="alg"/>.</summary>
    public bool Fits(string alg) =>
        (Algorithm is null || Algorithm == alg) && alg switch
        {
            "RS256" or "PS256" => KeyType == Rsa,
            "ES256" => KeyType == EllipticCurve,
            _ => false,
        };

    internal bool Verify(string alg, ReadOnlySpan<byte> signedData, ReadOnlySpan<byte> signature)
    {
        if (!Fits(alg)) return false;
        lock (_lock)
        {
            try
            {
                return alg switch
                {
                    "RS256" => ((RSA)Key).VerifyData(signedData, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
                    "PS256" => ((RSA)Key).VerifyData(signedData, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pss),
                    // JWS carries r||s (32 bytes each for P-256), not the DER sequence .NET uses by default.
                    "ES256" => signature.Length == 64 && ((ECDsa)Key).VerifyData(signedData, signature,
                        HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
                    _ => false,
                };
            }
            catch (CryptographicException)
            {
                return false;
            }
        }
    }

    public override string ToString() => $"{KeyType} key {Kid ?? "(no kid)"}";
}
