using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Portal.Tests.Auth.Oidc;

/// <summary>A real key pair standing in for one of the provider's signing keys.</summary>
public sealed class TestKey
{
    // Generated once per test run: RSA key generation is the slow part of these tests.
    public static readonly TestKey Rsa = NewRsa("rsa-1");
    public static readonly TestKey Ec = NewEc("ec-1");

    private TestKey(string kid, AsymmetricAlgorithm key) { Kid = kid; Key = key; }

    public string Kid { get; }
    public AsymmetricAlgorithm Key { get; }

    public static TestKey NewRsa(string kid, int bits = 2048) => new(kid, System.Security.Cryptography.RSA.Create(bits));
    public static TestKey NewEc(string kid) => new(kid, ECDsa.Create(ECCurve.NamedCurves.nistP256));

    /// <summary>The public JWK, as a provider publishes it; <paramref name="withPrivateParts"/> adds what it never should.</summary>
    public JsonObject ToJwk(string? alg = null, string? use = "sig", bool withPrivateParts = false)
    {
        var jwk = new JsonObject { ["kid"] = Kid };
        if (use is not null) jwk["use"] = use;
        if (alg is not null) jwk["alg"] = alg;
        switch (Key)
        {
            case RSA rsa:
                var p = rsa.ExportParameters(withPrivateParts);
                jwk["kty"] = "RSA";
                jwk["n"] = B64(p.Modulus!);
                jwk["e"] = B64(p.Exponent!);
                if (withPrivateParts)
                {
                    jwk["d"] = B64(p.D!); jwk["p"] = B64(p.P!); jwk["q"] = B64(p.Q!);
                    jwk["dp"] = B64(p.DP!); jwk["dq"] = B64(p.DQ!); jwk["qi"] = B64(p.InverseQ!);
                }
                break;
            case ECDsa ec:
                var q = ec.ExportParameters(withPrivateParts);
                jwk["kty"] = "EC";
                jwk["crv"] = "P-256";
                jwk["x"] = B64(q.Q.X!);
                jwk["y"] = B64(q.Q.Y!);
                if (withPrivateParts) jwk["d"] = B64(q.D!);
                break;
        }
        return jwk;
    }

    public byte[] Sign(string alg, byte[] data) => (alg, Key) switch
    {
        ("RS256", RSA rsa) => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        ("PS256", RSA rsa) => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pss),
        ("ES256", ECDsa ec) => ec.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
        _ => throw new ArgumentException($"This test key cannot sign {alg}."),
    };

    public static string B64(byte[] bytes) => Base64Url.EncodeToString(bytes);
}
