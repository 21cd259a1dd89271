using System.Text;
using System.Text.Json;

namespace Portal.App.Auth.Oidc;

/// <summary>A compact JWS split into its parts (RFC 7515 §7.1). Nothing in it is trusted until the signature verified.</summary>
internal sealed class CompactJws
{
    private static readonly JsonDocumentOptions StrictJson = new() { AllowDuplicateProperties = false };

    private CompactJws(string algorithm, string? kid, byte[] signingInput, byte[] payload, byte[] signature)
    {
        Algorithm = algorithm;
        Kid = kid;
        SigningInput = signingInput;
        Payload = payload;
        Signature = signature;
    }

    public string Algorithm { get; }
    public string? Kid { get; }

    /// <summary>The ASCII bytes of "header.payload" exactly as received: what the signature covers.</summary>
    public byte[] SigningInput { get; }

    public byte[] Payload { get; }
    public byte[] Signature { get; }

    /// <summary>The parts, or the failure (Malformed or UnsupportedAlgorithm). Never throws.</summary>
    public static (CompactJws? Jws, TokenValidationResult? Failure) Parse(string? token, int maxLength)
    {
        if (string.IsNullOrEmpty(token)) return Malformed("the token is empty");
        if (token.Length > maxLength) return Malformed($"the token is longer than {maxLength} characters");

        var parts = token.Split('.');
        if (parts.Length == 5) return Malformed("the token has five parts: it is encrypted (JWE), and only signed tokens (JWS) are accepted");
        if (parts.Length != 3) return Malformed($"the token has {parts.Length} parts, a signed token (JWS) has three");

        if (!Base64UrlStrict.TryDecode(parts[0], out var headerBytes)) return Malformed("the token's header is not base64url");
        string alg;
        string? kid = null;
        try
        {
            using var header = JsonDocument.Parse(headerBytes, StrictJson);
            var root = header.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return Malformed("the token's header is not a JSON object");
            if (!root.TryGetProperty("alg", out var algElement) || algElement.ValueKind != JsonValueKind.String)
                return Malformed("the token's header has no alg");
            alg = algElement.GetString()!;
            // Before anything else: "none", HS* (keyed with the public key, the classic forgery) and the rest.
            if (!OidcTokenValidator.SupportedAlgorithms.Contains(alg))
                return (null, TokenValidationResult.Fail(TokenFailure.UnsupportedAlgorithm,
                    $"the token's algorithm is {OidcTokenValidator.Show(alg)}; only {string.Join(", ", OidcTokenValidator.SupportedAlgorithms)} are accepted"));
            // RFC 7515 §4.1.11: extensions marked critical must be understood, and we understand none.
            if (root.TryGetProperty("crit", out _)) return Malformed("the token's header marks extensions as critical (crit), none are supported");
            if (root.TryGetProperty("kid", out var kidElement))
            {
                if (kidElement.ValueKind != JsonValueKind.String) return Malformed("the token's kid is not a string");
                kid = kidElement.GetString();
            }
            // jwk, jku, x5u, x5c are ignored on purpose: keys come from the provider's JWKS, never from the token.
        }
        catch (JsonException)
        {
            return Malformed("the token's header is not JSON");
        }

        if (parts[1].Length == 0) return Malformed("the token has no payload");
        if (!Base64UrlStrict.TryDecode(parts[1], out var payload)) return Malformed("the token's payload is not base64url");
        // Only "none" may go unsigned, and it was refused above.
        if (parts[2].Length == 0) return Malformed("the token has no signature");
        if (!Base64UrlStrict.TryDecode(parts[2], out var signature)) return Malformed("the token's signature is not base64url");
        var signingInput = Encoding.ASCII.GetBytes(token, 0, parts[0].Length + 1 + parts[1].Length);
        return (new CompactJws(alg, kid, signingInput, payload, signature), null);
    }

    private static (CompactJws?, TokenValidationResult?) Malformed(string detail) =>
        (null, TokenValidationResult.Fail(TokenFailure.Malformed, detail));
}
