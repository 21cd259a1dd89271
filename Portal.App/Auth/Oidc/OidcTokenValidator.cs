using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Portal.App.Auth.Oidc;

/// <summary>
/// Validates ID tokens (OpenID Connect Core 1.0 §3.1.3.7) and back-channel logout tokens (Back-Channel Logout 1.0
/// §2.4, §2.6) signed by the provider of <see cref="OidcDiscovery"/>. Bad input never throws: it yields a
/// <see cref="TokenValidationResult"/> with the failure. Only an unusable provider throws (<see cref="OidcException"/>).
/// </summary>
public sealed class OidcTokenValidator(OidcDiscovery discovery, TimeProvider clock)
{
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(2);

    /// <summary>The only algorithms accepted. HS* is never one: with public keys as the secret it is the classic forgery.</summary>
    public static readonly IReadOnlyList<string> SupportedAlgorithms = ["RS256", "PS256", "ES256"];

    public const string BackChannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout";

    // Far above any real ID token (even with hundreds of groups), and keeps junk from costing much.
    private const int MaxTokenLength = 256 * 1024;

    private static readonly JsonDocumentOptions StrictJson = new() { AllowDuplicateProperties = false };

    /// <summary>Validates an ID token from the token endpoint for this client and the nonce this sign-in sent.</summary>
    public async Task<TokenValidationResult> ValidateIdTokenAsync(string idToken, string clientId, string expectedNonce,
        CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        var (claims, failure) = await VerifyAsync(idToken, clientId, expRequired: true, ct);
        if (failure is not null) return failure;

        if (string.IsNullOrEmpty(expectedNonce))
            return Fail(TokenFailure.WrongNonce, "no nonce was expected, so this sign-in was not started here");
        if (!TryGetString(claims, "nonce", out var nonce))
            return Fail(TokenFailure.WrongNonce, "the token has no nonce");
        // The nonces themselves stay out of the log: they tie a sign-in to a browser.
        if (!string.Equals(nonce, expectedNonce, StringComparison.Ordinal))
            return Fail(TokenFailure.WrongNonce, "the token's nonce is not the one this sign-in sent");

        if (!TryGetString(claims, "sub", out _))
            return Fail(TokenFailure.MissingSubject, "the token has no sub (subject)");
        return TokenValidationResult.Success(claims);
    }

    /// <summary>Validates a logout token the provider posted to the back-channel logout endpoint.</summary>
    public async Task<TokenValidationResult> ValidateLogoutTokenAsync(string logoutToken, string clientId, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        var (claims, failure) = await VerifyAsync(logoutToken, clientId, expRequired: false, ct);
        if (failure is not null) return failure;

        if (!claims.TryGetProperty("events", out var events) || events.ValueKind != JsonValueKind.Object
            || !events.TryGetProperty(BackChannelLogoutEvent, out var logoutEvent) || logoutEvent.ValueKind != JsonValueKind.Object)
            return Fail(TokenFailure.NotALogoutToken, "the token's events claim does not hold the back-channel logout event");
        if (!TryGetString(claims, "jti", out _))
            return Fail(TokenFailure.NotALogoutToken, "the logout token has no jti");
        foreach (var name in (ReadOnlySpan<string>)["sid", "sub"])
        {
            if (claims.TryGetProperty(name, out _) && !TryGetString(claims, name, out _))
                return Fail(TokenFailure.NotALogoutToken, $"the logout token's {name} is not a non-empty string");
        }
        if (!claims.TryGetProperty("sid", out _) && !claims.TryGetProperty("sub", out _))
            return Fail(TokenFailure.NotALogoutToken, "the logout token names neither a session (sid) nor a subject (sub)");
        // An ID token has a nonce; a logout token must not, so one cannot be replayed as the other.
        if (claims.TryGetProperty("nonce", out _))
            return Fail(TokenFailure.NotALogoutToken, "the token has a nonce, which a logout token must not have");
        return TokenValidationResult.Success(claims);
    }

    /// <summary>Signature, then iss, aud, azp, exp, iat, nbf: the checks ID and logout tokens share.</summary>
    private async Task<(JsonElement Claims, TokenValidationResult? Failure)> VerifyAsync(string? token, string clientId,
        bool expRequired, CancellationToken ct)
    {
        // Everything that needs no key first: the algorithm is refused before any key lookup.
        var (jws, malformed) = CompactJws.Parse(token, MaxTokenLength);
        if (jws is null) return (default, malformed);

        var key = await discovery.FindSigningKeyAsync(jws.Kid, jws.Algorithm, ct);
        if (key is null) return (default, Fail(TokenFailure.UnknownKey, ExplainMissingKey(jws.Kid, jws.Algorithm)));
        if (!key.Verify(jws.Algorithm, jws.SigningInput, jws.Signature))
            return (default, Fail(TokenFailure.BadSignature, $"the token's {jws.Algorithm} signature does not verify with {Show(key.ToString())}"));

        // From here on the payload is the provider's own words.
        JsonElement claims;
        try
        {
            using var document = JsonDocument.Parse(jws.Payload, StrictJson);
            claims = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return (default, Fail(TokenFailure.Malformed, "the token's payload is not JSON"));
        }
        if (claims.ValueKind != JsonValueKind.Object)
            return (default, Fail(TokenFailure.Malformed, "the token's payload is not a JSON object"));

        var issuer = (await discovery.GetMetadataAsync(ct)).Issuer;
        var failure = CheckIssuer(claims, issuer) ?? CheckAudience(claims, clientId) ?? CheckTimes(claims, expRequired);
        return (claims, failure);
    }

    private static TokenValidationResult? CheckIssuer(JsonElement claims, string issuer)
    {
        if (!TryGetString(claims, "iss", out var iss))
            return Fail(TokenFailure.WrongIssuer, $"the token has no issuer, expected {issuer}");
        return string.Equals(iss, issuer, StringComparison.Ordinal)
            ? null
            : Fail(TokenFailure.WrongIssuer, $"the token's issuer is {Show(iss)}, expected {issuer}");
    }

    private static TokenValidationResult? CheckAudience(JsonElement claims, string clientId)
    {
        var audiences = new List<string>();
        if (claims.TryGetProperty("aud", out var aud))
        {
            if (aud.ValueKind == JsonValueKind.String) audiences.Add(aud.GetString()!);
            else if (aud.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in aud.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String)
                        return Fail(TokenFailure.WrongAudience, "the token's aud holds something other than strings");
                    audiences.Add(item.GetString()!);
                }
            }
            else return Fail(TokenFailure.WrongAudience, "the token's aud is neither a string nor an array");
        }
        if (audiences.Count == 0)
            return Fail(TokenFailure.WrongAudience, $"the token has no audience, expected {clientId}");
        if (!audiences.Contains(clientId, StringComparer.Ordinal))
            return Fail(TokenFailure.WrongAudience, $"the token is meant for {Show(string.Join(", ", audiences))}, not for {clientId}");

        if (claims.TryGetProperty("azp", out var azpElement))
        {
            if (azpElement.ValueKind != JsonValueKind.String)
                return Fail(TokenFailure.WrongAuthorizedParty, "the token's azp is not a string");
            var azp = azpElement.GetString();
            if (!string.Equals(azp, clientId, StringComparison.Ordinal))
                return Fail(TokenFailure.WrongAuthorizedParty, $"the token was issued to {Show(azp)}, not to {clientId}");
        }
        else if (audiences.Count > 1)
        {
            // A token for several audiences must say which of them it was issued to.
            return Fail(TokenFailure.WrongAuthorizedParty, $"the token has {audiences.Count} audiences but no azp");
        }
        return null;
    }

    private TokenValidationResult? CheckTimes(JsonElement claims, bool expRequired)
    {
        var now = clock.GetUtcNow();
        var nowSeconds = now.ToUnixTimeMilliseconds() / 1000.0;
        var skew = ClockSkew.TotalSeconds;

        if (claims.TryGetProperty("exp", out var expElement))
        {
            if (!TryGetNumericDate(expElement, out var exp))
                return Fail(TokenFailure.Expired, "the token's exp is not a number");
            if (!(exp > nowSeconds - skew))
                return Fail(TokenFailure.Expired, $"the token expired at {Time(exp)}, now is {Time(nowSeconds)}");
        }
        else if (expRequired)
        {
            return Fail(TokenFailure.Expired, "the token has no exp (expiry)");
        }

        if (!claims.TryGetProperty("iat", out var iatElement) || !TryGetNumericDate(iatElement, out var iat))
            return Fail(TokenFailure.IssuedInFuture, "the token has no numeric iat (issue time)");
        if (iat > nowSeconds + skew)
            return Fail(TokenFailure.IssuedInFuture, $"the token was issued at {Time(iat)}, in the future (now is {Time(nowSeconds)})");

        // Not an OIDC claim, but a JWT with nbf must not be accepted before it (RFC 7519 §4.1.5).
        if (claims.TryGetProperty("nbf", out var nbfElement))
        {
            if (!TryGetNumericDate(nbfElement, out var nbf))
                return Fail(TokenFailure.IssuedInFuture, "the token's nbf is not a number");
            if (nbf > nowSeconds + skew)
                return Fail(TokenFailure.IssuedInFuture, $"the token is not valid before {Time(nbf)} (now is {Time(nowSeconds)})");
        }
        return null;
    }

    private string ExplainMissingKey(string? kid, string alg)
    {
        var keys = discovery.CachedSigningKeys;
        if (kid is null)
        {
            var fitting = keys.Count(k => k.Fits(alg));
            return fitting == 0
                ? $"the token names no key (kid) and the provider publishes no key for {alg}"
                : $"the token names no key (kid) and the provider publishes {fitting} keys for {alg}";
        }
        var same = keys.FirstOrDefault(k => k.Kid == kid);
        if (same is null) return $"the provider publishes no key {Show(kid)}";
        return same.Algorithm is { } only && only != alg
            ? $"key {Show(kid)} is for {Show(only)} only, but the token says {alg}"
            : $"key {Show(kid)} is an {same.KeyType} key, which cannot verify {alg}";
    }

    private static TokenValidationResult Fail(TokenFailure failure, string detail) => TokenValidationResult.Fail(failure, detail);

    private static bool TryGetString(JsonElement claims, string name, out string value)
    {
        value = "";
        if (!claims.TryGetProperty(name, out var element) || element.ValueKind != JsonValueKind.String) return false;
        value = element.GetString()!;
        return value.Length > 0;
    }

    private static bool TryGetNumericDate(JsonElement element, out double seconds)
    {
        seconds = 0;
        return element.ValueKind == JsonValueKind.Number && element.TryGetDouble(out seconds) && double.IsFinite(seconds);
    }

    private static string Time(double unixSeconds) =>
        unixSeconds is >= -62135596800 and < 253402300800
            ? DateTimeOffset.FromUnixTimeMilliseconds((long)(unixSeconds * 1000)).ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : unixSeconds.ToString(CultureInfo.InvariantCulture);

    /// <summary>A value from the token, made safe for one audit line: bounded, no control characters.</summary>
    internal static string Show(string? value)
    {
        if (value is null) return "(none)";
        const int max = 80;
        var text = new StringBuilder(Math.Min(value.Length, max) + 3);
        foreach (var c in value.Length > max ? value[..max] : value) text.Append(char.IsControl(c) ? '?' : c);
        if (value.Length > max) text.Append('…');
        return text.ToString();
    }
}
