using System.Security.Claims;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using Portal.App.Audit;
using Portal.App.Hosting;
using Portal.Data.Audit;

namespace Portal.App.Auth;

/// <summary>
/// Sign-in with the organisation's OpenID Connect provider on ASP.NET Core's handler: authorization code with PKCE,
/// state and nonce, discovery and keys through its configuration manager, tokens checked by Microsoft.IdentityModel.
/// Set here: what differs from the handler's defaults, and the portal's part in its events (roles from groups,
/// the user, the server-side session and the audit trail), done only once every check has passed.
/// </summary>
public static partial class OidcSignIn
{
    public const string Scheme = "oidc";
    public const string CallbackPath = "/signin-oidc";
    public const string SignedOutCallbackPath = "/signout-callback-oidc";
    /// <summary>Where the sign-out endpoint leaves the id_token for the handler's id_token_hint (never in the state).</summary>
    internal const string IdTokenHintItem = "portal.oidc.id_token_hint";
    private const string StageItem = "portal.oidc.stage";

    public static void AddPortalOidc(this AuthenticationBuilder authentication, IConfiguration configuration)
    {
        var oidc = configuration.GetSection(OidcOptions.Section).Get<OidcOptions>()!;
        var services = authentication.Services;
        services.Configure<OidcOptions>(configuration.GetSection(OidcOptions.Section));
        services.AddSingleton<SignInFailures>();
        services.AddSingleton<BackChannelLogout>();
        // The first sign-in after the provider rotates its key: without this the token with the new kid fails and only
        // starts a background refresh; with it the refresh is awaited and the token checked against the new keys.
        // (Also a RuntimeHostConfigurationOption in Portal.App.csproj; set here too for hosts that load the app.)
        AppContext.SetSwitch("Switch.Microsoft.IdentityModel.UpdateConfigAsBlocking", true);

        authentication.AddOpenIdConnect(Scheme, "Your organisation", o =>
        {
            o.Authority = oidc.Authority;
            o.ClientId = oidc.ClientId;
            o.ClientSecret = oidc.ClientSecret;
            // PortalSettings already refused plain http anywhere but loopback (or with RequireHttps off for a demo).
            o.RequireHttpsMetadata = oidc.Authority!.StartsWith("https:", StringComparison.OrdinalIgnoreCase);
            o.ResponseType = OpenIdConnectResponseType.Code;
            o.UsePkce = true;
            // form_post is a cross-site POST, which needs SameSite=None; Secure cookies: not over plain http on a
            // loopback demo. A top-level GET back (query) carries Lax cookies.
            o.ResponseMode = OpenIdConnectResponseMode.Query;
            o.CorrelationCookie.SameSite = SameSiteMode.Lax;
            o.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.NonceCookie.SameSite = SameSiteMode.Lax;
            o.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.CallbackPath = CallbackPath;
            o.SignedOutCallbackPath = SignedOutCallbackPath;
            o.SignedOutRedirectUri = "/signin?signedOut=1";
            // Front-channel logout would drop the cookie but not the server-side session: back-channel logout is ours.
            o.RemoteSignOutPath = PathString.Empty;
            o.SignInScheme = CookieAuthenticationDefaults.AuthenticationScheme;
            o.SignOutScheme = CookieAuthenticationDefaults.AuthenticationScheme;
            o.Scope.Clear();
            foreach (var scope in oidc.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries)) o.Scope.Add(scope);
            o.GetClaimsFromUserInfoEndpoint = oidc.UseUserinfo;
            foreach (var claim in new[] { oidc.GroupsClaim, "roles", "email_verified", "preferred_username", "sid" }.Distinct())
                o.ClaimActions.MapJsonKey(claim, claim);
            o.MapInboundClaims = false;
            o.SaveTokens = true; // TicketReceived then keeps only the id_token (for id_token_hint at sign-out)
            o.DisableTelemetry = true;
            // A token whose kid the provider does not publish is refused, even when some published key would verify it.
            o.TokenValidationParameters.TryAllIssuerSigningKeys = false;
            o.TokenValidationParameters.NameClaimType = "name";
            o.Events = new OpenIdConnectEvents
            {
                OnMessageReceived = context =>
                {
                    if (!string.IsNullOrEmpty(context.ProtocolMessage.Error)) context.HttpContext.Items[StageItem] = "authorization";
                    return Task.CompletedTask;
                },
                OnAuthorizationCodeReceived = context =>
                {
                    context.HttpContext.Items[StageItem] = "token";
                    return Task.CompletedTask;
                },
                OnTokenValidated = context =>
                {
                    // For the id_token from the token endpoint the handler does not require a signature (OIDC Core
                    // 3.1.3.7 allows it over TLS): the portal does. Nothing is recorded here; TicketReceived does that.
                    if (!Signed(context.SecurityToken?.Header.Alg))
                        context.Fail(new SignInRefusedException("The id_token was refused: UnsupportedAlgorithm (it is not signed with the provider's key)."));
                    return Task.CompletedTask;
                },
                OnRedirectToIdentityProviderForSignOut = context =>
                {
                    context.ProtocolMessage.IdTokenHint = context.HttpContext.Items[IdTokenHintItem] as string;
                    return Task.CompletedTask;
                },
                OnTicketReceived = SignedInAsync,
                OnRemoteFailure = RemoteFailureAsync,
            };
        });
    }

    private static bool Signed(string? alg) =>
        alg is { Length: > 0 } && !alg.Equals("none", StringComparison.OrdinalIgnoreCase) && !alg.StartsWith("HS", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// After every check (state, correlation, code, token, nonce, userinfo): the returnUrl, roles from groups, the user
    /// (just in time), the session and the sign-in event, in that order; a refusal before the user is known writes nothing
    /// but its audit event.
    /// </summary>
    private static async Task SignedInAsync(TicketReceivedContext context)
    {
        var http = context.HttpContext;
        var services = http.RequestServices;
        var ct = http.RequestAborted;
        var options = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<OidcOptions>>().Value;
        var claims = context.Principal!;

        // The login endpoint only lets local paths through; this is the same check where the session would be written.
        var returnUrl = ReturnUrls.Encode(string.IsNullOrEmpty(context.ReturnUri) ? "/" : context.ReturnUri);
        if (returnUrl is null)
        {
            await RefuseAsync(context, "The returnUrl is not a local path.");
            return;
        }

        var subject = claims.FindFirstValue("sub");
        if (string.IsNullOrEmpty(subject))
        {
            await RefuseAsync(context, "The id_token was refused: MissingSubject.");
            return;
        }
        var name = claims.FindFirstValue("name") ?? claims.FindFirstValue("preferred_username") ?? subject;
        var email = claims.FindFirstValue("email");
        var emailVerified = email is not null && (options.TrustEmail || string.Equals(claims.FindFirstValue("email_verified"), "true", StringComparison.OrdinalIgnoreCase));
        var groups = claims.FindAll(options.GroupsClaim).Select(c => c.Value).Distinct().ToList();
        var roles = RoleMapping.Roles(options, groups.Concat(claims.FindAll("roles").Select(c => c.Value)));
        if (roles.Count == 0)
        {
            await RefuseAsync(context, $"None of the person's groups gives a portal role (groups: {string.Join(", ", groups)}).");
            return;
        }

        var issuer = claims.FindFirstValue("iss") ?? (await ConfigurationAsync((OpenIdConnectOptions)context.Options, ct)).Issuer;
        var user = await services.GetRequiredService<UserDirectory>().SignedInAsync(issuer, subject, name, email, emailVerified, roles, groups, ct);
        if (user.IsDisabled)
        {
            var refused = AuditEventFactory.For(new ClaimsPrincipal(), AuditAction.SignInFailed, AuditOutcome.Denied, "The person's portal account is disabled.", http);
            (refused.ActorUserId, refused.ActorSubject, refused.ActorDisplayName) = (user.Id, user.Subject, user.DisplayName);
            await services.GetRequiredService<AuditLog>().AppendAsync(refused, ct);
            context.Response.Redirect("/signin?error=1");
            context.HandleResponse();
            return;
        }
        var sessionId = await services.GetRequiredService<SessionStore>().StartAsync(user.Id, claims.FindFirstValue("sid"), ct);
        var principal = PortalPrincipal.Create(user, roles, groups, sessionId);
        await services.GetRequiredService<AuditLog>().AppendAsync(
            AuditEventFactory.For(principal, AuditAction.SignIn, AuditOutcome.Allowed, "OpenID Connect", http), ct);

        context.Principal = principal;
        // Only the id_token stays (encrypted, in the session cookie), as id_token_hint for signing out at the provider;
        // the access token is not needed after sign-in.
        var idToken = context.Properties!.GetTokenValue(OpenIdConnectParameterNames.IdToken);
        context.Properties.StoreTokens(idToken is null ? [] : [new AuthenticationToken { Name = OpenIdConnectParameterNames.IdToken, Value = idToken }]);
        context.ReturnUri = returnUrl;
    }

    private static async Task RefuseAsync(TicketReceivedContext context, string reason)
    {
        await RecordAsync(context.HttpContext, reason);
        context.Response.Redirect("/signin?error=1");
        context.HandleResponse();
    }

    /// <summary>
    /// Every refusal the handler reports (state, correlation, the provider's error, the code, the token): recorded in
    /// the portal's own words, never the provider's free text or a token; then the sign-in page says it did not work.
    /// </summary>
    private static async Task RemoteFailureAsync(RemoteFailureContext context)
    {
        var http = context.HttpContext;
        var reason = ReasonFor(context.Failure, http.Items[StageItem] as string);
        await RecordAsync(http, reason);
        context.Response.Redirect("/signin?error=1");
        context.HandleResponse();
    }

    private static async Task RecordAsync(HttpContext http, string reason)
    {
        http.RequestServices.GetRequiredService<ILogger<SignInFailures>>().LogWarning("OpenID Connect sign-in refused: {Reason}", reason);
        await http.RequestServices.GetRequiredService<SignInFailures>().RecordAsync(http, AuditAction.SignInFailed, reason);
    }

    /// <summary>The portal's reason words for a refused callback.</summary>
    internal static string ReasonFor(Exception? failure, string? stage) => failure switch
    {
        SignInRefusedException refused => refused.Message,
        OpenIdConnectProtocolInvalidNonceException => "The id_token was refused: WrongNonce (not the nonce this sign-in sent).",
        SecurityTokenInvalidAudienceException => "The id_token was refused: WrongAudience (issued for another client).",
        SecurityTokenInvalidIssuerException => "The id_token was refused: WrongIssuer (not the configured provider).",
        SecurityTokenExpiredException => "The id_token was refused: Expired.",
        SecurityTokenNotYetValidException => "The id_token was refused: NotYetValid.",
        SecurityTokenSignatureKeyNotFoundException => "The id_token was refused: UnknownKey (signed with a key the provider does not publish).",
        SecurityTokenInvalidSignatureException => "The id_token was refused: BadSignature.",
        SecurityTokenInvalidAlgorithmException => "The id_token was refused: UnsupportedAlgorithm.",
        SecurityTokenMalformedException or ArgumentException when stage == "token" => "The id_token was refused: Malformed.",
        SecurityTokenException => "The id_token was refused: Invalid.",
        OpenIdConnectProtocolException e when ErrorCode(e) is { } code => stage == "authorization"
            ? $"The provider refused the sign-in ({code})."
            : $"The provider refused the code ({code}).",
        OpenIdConnectProtocolException => "The id_token was refused: ProtocolCheck.",
        HttpRequestException or TaskCanceledException or InvalidOperationException when stage == "token"
            => "The provider could not be reached to complete the sign-in.",
        { Message: "Correlation failed." } => "Correlation failed: the callback did not come back to the browser that started the sign-in.",
        // The handler's words: "Unable to unprotect the message.State." / "... message.State is null or empty."
        { Message: var m } when m.Contains("message.State", StringComparison.Ordinal) => "Unknown state: the callback's state was not issued by this portal.",
        null => "Sign-in failed.",
        _ => $"Sign-in failed ({failure.GetType().Name}).",
    };

    /// <summary>The provider's error code when it is one (letters and underscores); its free-text description never.</summary>
    private static string? ErrorCode(Exception e) =>
        e.Data["error"] is string code && ErrorCodeShape().IsMatch(code) ? code : e.Data["error"] is null ? null : "unrecognised error";

    [GeneratedRegex("^[a-z_]{1,64}$")]
    private static partial Regex ErrorCodeShape();

    /// <summary>The provider's configuration, through the handler's own manager (cached, refreshed on an unknown key).</summary>
    public static Task<OpenIdConnectConfiguration> ConfigurationAsync(OpenIdConnectOptions options, CancellationToken ct) =>
        options.ConfigurationManager!.GetConfigurationAsync(ct);
}

/// <summary>A sign-in the portal refuses after the provider said yes: audited with this reason, not an error page.</summary>
public sealed class SignInRefusedException(string reason) : Exception(reason);
