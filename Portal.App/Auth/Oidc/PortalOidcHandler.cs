using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OAuth;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Portal.App.Audit;
using Portal.App.Hosting;
using Portal.Data.Audit;

namespace Portal.App.Auth.Oidc;

/// <summary>Options of the portal's OpenID Connect scheme: the in-box OAuth options plus the portal's own.</summary>
public sealed class PortalOidcOptions : OAuthOptions
{
    public OidcOptions Portal { get; set; } = new();
}

/// <summary>A sign-in the portal refuses after the provider said yes (no role, disabled, bad token): audited, not an error page.</summary>
public sealed class SignInRefusedException(string reason) : Exception(reason);

/// <summary>
/// OpenID Connect on the in-box OAuth handler, which already does state (with a correlation cookie) and PKCE S256.
/// Added here: endpoints from discovery, a nonce bound to the state, id_token validation (our own layer),
/// optional userinfo, claims to roles, and the portal's user, session and audit event.
/// </summary>
public sealed class PortalOidcHandler(
    IOptionsMonitor<PortalOidcOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    OidcDiscovery discovery, OidcTokenValidator validator, UserDirectory users, SessionStore sessions, AuditLog audit)
    : OAuthHandler<PortalOidcOptions>(options, logger, encoder)
{
    public const string SchemeName = "oidc";
    private const string NonceKey = "portal.nonce";
    private OidcMetadata? _metadata;

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        try
        {
            _metadata = await discovery.GetMetadataAsync(Context.RequestAborted);
        }
        catch (OidcException e)
        {
            // The person cannot do anything about it but try later: say so on the sign-in page, keep where they were
            // going, and leave the cause (which names the provider's URL) to the operators' log.
            Logger.LogWarning("Sign-in could not start: {Reason}", e.Message);
            Response.Redirect(QueryHelpers.AddQueryString("/signin", new Dictionary<string, string?>
            {
                ["error"] = "provider", ["ReturnUrl"] = AuthEndpoints.SafeReturnUrl(properties.RedirectUri),
            }));
            return;
        }
        // Set before the base class protects the properties into "state", so the nonce is bound to it.
        properties.Items[NonceKey] = Microsoft.AspNetCore.WebUtilities.Base64UrlTextEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        await base.HandleChallengeAsync(properties);
    }

    protected override string BuildChallengeUrl(AuthenticationProperties properties, string redirectUri)
    {
        // The base builds client_id, redirect_uri, scope, state and the PKCE challenge against the configured
        // endpoint; swap in the discovered one and add the nonce.
        var url = base.BuildChallengeUrl(properties, redirectUri);
        var query = url[url.IndexOf('?')..];
        return QueryHelpers.AddQueryString(_metadata!.AuthorizationEndpoint + query, "nonce", properties.Items[NonceKey]!);
    }

    protected override async Task<OAuthTokenResponse> ExchangeCodeAsync(OAuthCodeExchangeContext context)
    {
        var metadata = await discovery.GetMetadataAsync(Context.RequestAborted);
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = context.Code,
            ["redirect_uri"] = context.RedirectUri,
            ["client_id"] = Options.ClientId,
            ["client_secret"] = Options.ClientSecret,
        };
        if (context.Properties.Items.TryGetValue(OAuthConstants.CodeVerifierKey, out var verifier) && verifier is not null)
        {
            form[OAuthConstants.CodeVerifierKey] = verifier;
            context.Properties.Items.Remove(OAuthConstants.CodeVerifierKey);
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, metadata.TokenEndpoint) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Accept.ParseAdd("application/json");
        using var response = await Backchannel.SendAsync(request, Context.RequestAborted);
        var body = await response.Content.ReadAsStringAsync(Context.RequestAborted);
        if (!response.IsSuccessStatusCode)
        {
            // The provider's error code only (e.g. invalid_grant for a replayed code); never the body's tokens.
            return OAuthTokenResponse.Failed(new SignInRefusedException($"The provider refused the code ({TryReadError(body)})."));
        }
        return OAuthTokenResponse.Success(JsonDocument.Parse(body));
    }

    protected override async Task<AuthenticationTicket> CreateTicketAsync(ClaimsIdentity identity, AuthenticationProperties properties, OAuthTokenResponse tokens)
    {
        var ct = Context.RequestAborted;
        var idToken = tokens.Response?.RootElement.TryGetProperty("id_token", out var t) == true ? t.GetString() : null;
        if (string.IsNullOrEmpty(idToken)) throw new SignInRefusedException("The provider returned no id_token.");
        if (!properties.Items.TryGetValue(NonceKey, out var nonce) || nonce is null) throw new SignInRefusedException("The sign-in carried no nonce.");

        var result = await validator.ValidateIdTokenAsync(idToken, Options.ClientId, nonce, ct);
        if (!result.Succeeded) throw new SignInRefusedException($"The id_token was refused: {result.Failure}. {result.Detail}");
        var claims = result.Claims;

        var metadata = await discovery.GetMetadataAsync(ct);
        if (Options.Portal.UseUserinfo && tokens.AccessToken is { Length: > 0 } accessToken && metadata.UserinfoEndpoint is { } userinfoEndpoint)
            claims = await MergeUserinfoAsync(claims, userinfoEndpoint, accessToken, ct);

        var subject = claims.GetProperty("sub").GetString()!;
        var name = Text(claims, "name") ?? Text(claims, "preferred_username") ?? subject;
        var email = Text(claims, "email");
        var groups = Strings(claims, Options.Portal.GroupsClaim);
        var roles = RoleMapping.Roles(Options.Portal, groups.Concat(Strings(claims, "roles")));
        if (roles.Count == 0)
            throw new SignInRefusedException($"None of the person's groups gives a portal role (groups: {string.Join(", ", groups)}).");

        var user = await users.SignedInAsync(metadata.Issuer, subject, name, email, roles, groups, ct);
        if (user.IsDisabled) throw new SignInRefusedException("The person's portal account is disabled.");
        var sessionId = await sessions.StartAsync(user.Id, Text(claims, "sid"), ct);
        var principal = PortalPrincipal.Create(user, roles, groups, sessionId);

        // Kept (encrypted) in the session cookie only, as id_token_hint for signing out at the provider.
        properties.StoreTokens([new AuthenticationToken { Name = "id_token", Value = idToken }]);
        await audit.AppendAsync(AuditEventFactory.For(principal, AuditAction.SignIn, AuditOutcome.Allowed, "OpenID Connect", Context), ct);
        return new AuthenticationTicket(principal, properties, SchemeName);
    }

    private async Task<JsonElement> MergeUserinfoAsync(JsonElement idClaims, string endpoint, string accessToken, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, endpoint);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await Backchannel.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode) return idClaims;
        using var userinfo = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        // Userinfo must be about the same person (OIDC Core 5.3.2).
        if (Text(userinfo.RootElement, "sub") != Text(idClaims, "sub")) throw new SignInRefusedException("Userinfo described another subject.");
        var merged = new Dictionary<string, JsonElement>();
        foreach (var p in userinfo.RootElement.EnumerateObject()) merged[p.Name] = p.Value.Clone();
        foreach (var p in idClaims.EnumerateObject()) merged[p.Name] = p.Value.Clone(); // the signed token wins
        return JsonSerializer.SerializeToElement(merged);
    }

    private static string? Text(JsonElement claims, string name) =>
        claims.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static List<string> Strings(JsonElement claims, string name) =>
        !claims.TryGetProperty(name, out var v) ? []
        : v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToList()
        : v.ValueKind == JsonValueKind.String ? [v.GetString()!] : [];

    private static string TryReadError(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.TryGetProperty("error", out var e) ? e.GetString() ?? "unknown" : "unknown";
        }
        catch (JsonException) { return "unreadable answer"; }
    }
}

/// <summary>Claim values to portal roles, per configuration; never from anything the person typed.</summary>
public static class RoleMapping
{
    public static IReadOnlyList<string> Roles(OidcOptions options, IEnumerable<string> claimValues)
    {
        var roles = claimValues.Where(options.RoleMap.ContainsKey).Select(v => options.RoleMap[v]).Distinct().ToList();
        if (roles.Count == 0 && string.Equals(options.UnmappedUsers, PortalRoles.Staff, StringComparison.OrdinalIgnoreCase))
            roles.Add(PortalRoles.Staff);
        return roles;
    }
}
