using System.Security.Cryptography;
using System.Text.Json;

namespace Portal.App.Auth.Oidc;

/// <summary>Reads the signing keys out of a JWKS (RFC 7517), keeping only those this portal can verify with.</summary>
internal static class JsonWebKeySet
{
    // Below this an RSA key is too weak to trust (RFC 7518 §3.3 requires 2048 bits for RS256/PS256).
    private const int MinimumRsaBits = 2048;

    /// <summary>A key left out: <see cref="Expected"/> for keys a provider publishes for other purposes (encryption
    /// keys, types we do not use), false for keys that look meant for us but are broken or too weak.</summary>
    public sealed record SkippedKey(string Name, string Reason, bool Expected);

    /// <summary>The usable keys, and the skipped ones with the reason.</summary>
    public static (List<SigningKey> Keys, List<SkippedKey> Skipped) Parse(JsonElement jwks)
    {
        if (jwks.ValueKind != JsonValueKind.Object || !jwks.TryGetProperty("keys", out var array) || array.ValueKind != JsonValueKind.Array)
            throw new FormatException("it has no \"keys\" array");

        var keys = new List<SigningKey>();
        var skipped = new List<SkippedKey>();
        var index = 0;
        foreach (var jwk in array.EnumerateArray())
        {
            var name = $"key #{index++}";
            if (jwk.ValueKind != JsonValueKind.Object) { skipped.Add(new(name, "not a JSON object", false)); continue; }
            var kid = String(jwk, "kid");
            if (kid is not null) name = $"key {kid}";
            var skip = Load(jwk, kid, out var key);
            if (key is not null) keys.Add(key);
            else skipped.Add(new(name, skip!.Value.Reason, skip.Value.Expected));
        }
        return (keys, skipped);
    }

    /// <summary>The key, or null and the reason it is not used.</summary>
    private static (string Reason, bool Expected)? Load(JsonElement jwk, string? kid, out SigningKey? key)
    {
        key = null;
        var use = String(jwk, "use");
        if (use is not null && use != "sig") return ($"use is \"{use}\", not \"sig\"", true);
        if (jwk.TryGetProperty("key_ops", out var ops) && ops.ValueKind == JsonValueKind.Array
            && !ops.EnumerateArray().Any(o => o.ValueKind == JsonValueKind.String && o.GetString() == "verify"))
            return ("key_ops does not allow \"verify\"", true);
        var alg = String(jwk, "alg");
        var kty = String(jwk, "kty");
        try
        {
            // Only the public members are read: a JWKS that wrongly carries private parts (d, p, q...) must not
            // turn into keys that can sign.
            switch (kty)
            {
                case "RSA":
                    if (!Bytes(jwk, "n", out var n) || !Bytes(jwk, "e", out var e)) return ("RSA key without valid n and e", false);
                    n = TrimLeadingZeros(n);
                    e = TrimLeadingZeros(e);
                    if (n.Length * 8 < MinimumRsaBits) return ($"RSA key of {n.Length * 8} bits, fewer than {MinimumRsaBits}", false);
                    var rsa = RSA.Create();
                    rsa.ImportParameters(new RSAParameters { Modulus = n, Exponent = e });
                    key = new SigningKey(kid, SigningKey.Rsa, rsa, alg);
                    return null;
                case "EC":
                    var crv = String(jwk, "crv");
                    if (crv != "P-256") return ($"EC curve {crv ?? "(none)"} is not supported, only P-256", crv is not null);
                    if (!Bytes(jwk, "x", out var x) || !Bytes(jwk, "y", out var y) || x.Length != 32 || y.Length != 32)
                        return ("P-256 key without valid x and y", false);
                    // Creating the key checks that the point is on the curve (invalid-curve attacks).
                    var ecdsa = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = x, Y = y } });
                    key = new SigningKey(kid, SigningKey.EllipticCurve, ecdsa, alg);
                    return null;
                default:
                    return ($"key type {kty ?? "(none)"} is not supported", kty is not null);
            }
        }
        catch (CryptographicException ex)
        {
            return ($"cannot be loaded ({ex.Message})", false);
        }
    }

    private static string? String(JsonElement jwk, string name) =>
        jwk.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static bool Bytes(JsonElement jwk, string name, out byte[] bytes)
    {
        bytes = [];
        return String(jwk, name) is { } text && Base64UrlStrict.TryDecode(text, out bytes) && bytes.Length > 0;
    }

    // Some providers pad n with a zero byte (a leftover of two's-complement encoders); the key is the same.
    private static byte[] TrimLeadingZeros(byte[] value)
    {
        var start = 0;
        while (start < value.Length - 1 && value[start] == 0) start++;
        return start == 0 ? value : value[start..];
    }
}
