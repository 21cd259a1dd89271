using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Portal.App.Audit;
using Portal.Data;
using Portal.Data.Audit;
using Portal.Data.Database;
using Portal.Data.Sessions;

namespace Portal.App.Auth;

/// <summary>
/// OpenID Connect Back-Channel Logout 1.0 (the framework has no endpoint for it): the provider posts a logout_token,
/// checked with <see cref="JsonWebTokenHandler"/> against the OpenIdConnect handler's own issuer, audience and keys,
/// then by the spec's rules (2.6); the matching sessions end, and open pages lose access at their next check.
/// </summary>
public sealed class BackChannelLogout(IOptionsMonitor<OpenIdConnectOptions> handlerOptions, IDbContextFactory<PortalDbContext> contexts,
    SessionStore sessions, AuditLog audit, SignInFailures failures, TimeProvider clock, DatabaseWriteGate? writeGate = null)
{
    public const string Event = "http://schemas.openid.net/event/backchannel-logout";
    /// <summary>How old (or how far ahead) a logout token's iat may be; beyond it the token is refused as stale.</summary>
    public static readonly TimeSpan IatBound = TimeSpan.FromMinutes(5);
    /// <summary>Allowed difference between the provider's clock and ours, for exp and iat.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(1);
    private const int MaxTokenLength = 64 * 1024;

    /// <summary>The refusal's reason words, or null when the token is good and has been acted on.</summary>
    public sealed record Outcome(int StatusCode, string? Refusal);

    public async Task<Outcome> HandleAsync(HttpContext http, string? logoutToken)
    {
        var ct = http.RequestAborted;
        if (string.IsNullOrEmpty(logoutToken) || logoutToken.Length > MaxTokenLength)
            return await RefuseAsync(http, "Malformed (no logout_token, or far too long)");

        var options = handlerOptions.Get(OidcSignIn.Scheme);
        Microsoft.IdentityModel.Protocols.OpenIdConnect.OpenIdConnectConfiguration configuration;
        try
        {
            configuration = await OidcSignIn.ConfigurationAsync(options, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Nothing can be verified without the provider's keys, so nothing is ended; the provider may retry.
            await failures.RecordAsync(http, AuditAction.SignOut, "Back-channel logout not verified: the provider's keys could not be read.");
            return new Outcome(StatusCodes.Status503ServiceUnavailable, "provider unreachable");
        }

        var result = await ValidateAsync(logoutToken, configuration, options.ClientId!);
        if (result.Exception is SecurityTokenSignatureKeyNotFoundException)
        {
            // A key the provider has just started to use: read its keys again (the handler's manager), once.
            options.ConfigurationManager!.RequestRefresh();
            configuration = await OidcSignIn.ConfigurationAsync(options, ct);
            result = await ValidateAsync(logoutToken, configuration, options.ClientId!);
        }
        if (!result.IsValid) return await RefuseAsync(http, ReasonFor(result.Exception));
        var token = (JsonWebToken)result.SecurityToken;

        // OpenID Connect Back-Channel Logout 1.0, 2.6.
        if (token.TryGetHeaderValue<string>("typ", out var typ) && !string.Equals(typ, "logout+jwt", StringComparison.OrdinalIgnoreCase))
            return await RefuseAsync(http, $"NotALogoutToken (typ is not logout+jwt)");
        var now = clock.GetUtcNow();
        if (!token.TryGetPayloadValue<long>("iat", out var iat))
            return await RefuseAsync(http, "NotALogoutToken (no iat)");
        var issuedAt = DateTimeOffset.FromUnixTimeSeconds(iat);
        if (issuedAt < now - IatBound || issuedAt > now + ClockSkew)
            return await RefuseAsync(http, $"Stale (issued more than {IatBound.TotalMinutes:0} minutes ago, or in the future)");
        if (!token.TryGetPayloadValue<System.Text.Json.JsonElement>("events", out var events) || events.ValueKind != System.Text.Json.JsonValueKind.Object
            || !events.TryGetProperty(Event, out var logoutEvent) || logoutEvent.ValueKind != System.Text.Json.JsonValueKind.Object)
            return await RefuseAsync(http, "NotALogoutToken (its events claim lacks the back-channel logout event)");
        var sid = StringClaim(token, "sid");
        var sub = StringClaim(token, "sub");
        if (sid is null && sub is null)
            return await RefuseAsync(http, "NotALogoutToken (it names neither a session, sid, nor a subject, sub)");
        // An ID token has a nonce; a logout token must not, so one cannot be passed off as the other.
        if (token.TryGetPayloadValue<object>("nonce", out _))
            return await RefuseAsync(http, "NotALogoutToken (it has a nonce)");
        if (StringClaim(token, "jti") is not { Length: <= 255 } jti)
            return await RefuseAsync(http, "NotALogoutToken (no jti)");
        if (!await RememberAsync(token.Issuer, jti, token.ValidTo, now, ct))
            return await RefuseAsync(http, "Replayed (this logout token was already used)");

        var ended = await sessions.EndByProviderAsync(token.Issuer, sid, sub, "Back-channel logout from the provider", ct);
        foreach (var session in ended)
        {
            await audit.AppendAsync(AuditEventFactory.ForSessionOf(session.UserId, session.User?.Subject, session.User?.DisplayName,
                session.User?.Memberships.Select(m => m.Group!.Name) ?? [], session.Id,
                AuditAction.SignOut, AuditOutcome.Allowed, "Back-channel logout from the provider", http), ct);
        }
        return new Outcome(StatusCodes.Status200OK, null);
    }

    private static Task<TokenValidationResult> ValidateAsync(string token, Microsoft.IdentityModel.Protocols.OpenIdConnect.OpenIdConnectConfiguration configuration, string clientId) =>
        new JsonWebTokenHandler { MapInboundClaims = false }.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = configuration.Issuer,
            ValidAudience = clientId,
            IssuerSigningKeys = configuration.SigningKeys,
            TryAllIssuerSigningKeys = false,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = ClockSkew,
            // Only the provider's asymmetric algorithms: never HS* (a public key used as a shared secret) or none.
            ValidAlgorithms = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"],
        });

    private static string? StringClaim(JsonWebToken token, string name) =>
        token.TryGetPayloadValue<string>(name, out var value) && !string.IsNullOrEmpty(value) ? value : null;

    /// <summary>
    /// Remembers (issuer, jti) until the token expires, in the database so that every instance refuses a replay.
    /// False when it was already there.
    /// </summary>
    private async Task<bool> RememberAsync(string issuer, string jti, DateTime validTo, DateTimeOffset now, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        using (await writeGate.TurnAsync(ct))
            await db.LogoutTokenUses.Where(u => u.ExpiresAt < now - ClockSkew).ExecuteDeleteAsync(ct);
        if (await db.LogoutTokenUses.AnyAsync(u => u.Issuer == issuer && u.TokenId == jti, ct)) return false;
        db.LogoutTokenUses.Add(new LogoutTokenUse { Issuer = issuer, TokenId = jti, ExpiresAt = new DateTimeOffset(validTo, TimeSpan.Zero) + ClockSkew });
        try
        {
            await writeGate.SaveChangesInTurnAsync(db, ct);
            return true;
        }
        catch (DbUpdateException)
        {
            return false; // another instance took the same token at the same moment
        }
    }

    private static string ReasonFor(Exception? e) => e switch
    {
        SecurityTokenSignatureKeyNotFoundException => "UnknownKey",
        SecurityTokenInvalidSignatureException => "BadSignature",
        SecurityTokenInvalidAlgorithmException => "UnsupportedAlgorithm",
        SecurityTokenInvalidIssuerException => "WrongIssuer",
        SecurityTokenInvalidAudienceException => "WrongAudience",
        SecurityTokenNoExpirationException => "NoExpiry (a logout token must have exp)",
        SecurityTokenExpiredException => "Expired",
        SecurityTokenNotYetValidException => "NotYetValid",
        SecurityTokenMalformedException or ArgumentException => "Malformed",
        _ => "Invalid",
    };

    private async Task<Outcome> RefuseAsync(HttpContext http, string reason)
    {
        await failures.RecordAsync(http, AuditAction.SignOut, $"Back-channel logout refused: {reason}.");
        return new Outcome(StatusCodes.Status400BadRequest, reason);
    }
}
