using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Portal.App.Audit;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Portal.App.Hosting;
using Portal.Data.Audit;

namespace Portal.App.Auth;

public static class AuthEndpoints
{
    public static IEndpointRouteBuilder MapAuthEndpoints(this IEndpointRouteBuilder app, PortalSettings settings)
    {
        var auth = app.MapGroup("/auth");
        auth.MapPost("/signout", SignOutAsync).RequireAuthorization();
        if (settings.DevelopmentSignIn)
        {
            // Registered only in Development without an OIDC authority (PortalSettings decides): in any other
            // configuration the route does not exist at all.
            auth.MapPost("/dev-signin", DevelopmentSignInAsync);
        }
        if (settings.Oidc)
        {
            auth.MapGet("/login", LoginAsync).AllowAnonymous();
            // The provider calls this server to server with a signed logout_token: no cookie, no antiforgery token.
            auth.MapPost("/backchannel-logout", BackChannelLogoutAsync).DisableAntiforgery().AllowAnonymous();
        }
        return app;
    }

    /// <summary>
    /// Starts a sign-in at the provider, to come back to <paramref name="returnUrl"/> (a local path, encoded where a
    /// header needs it). Anything off-site is refused and recorded before anything else happens.
    /// </summary>
    private static async Task<IResult> LoginAsync(HttpContext http, string? returnUrl, SignInFailures failures,
        Microsoft.Extensions.Options.IOptionsMonitor<OpenIdConnectOptions> handlerOptions, ILogger<SignInFailures> log)
    {
        var target = ReturnUrls.Encode(string.IsNullOrEmpty(returnUrl) ? "/" : returnUrl);
        if (target is null)
        {
            await failures.RecordAsync(http, AuditAction.SignInFailed, "The returnUrl is not a local path.");
            return Results.LocalRedirect("/signin?error=1");
        }
        try
        {
            // The handler's own configuration manager: read now, so a provider that is down gets a page, not a 500.
            await OidcSignIn.ConfigurationAsync(handlerOptions.Get(OidcSignIn.Scheme), http.RequestAborted);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The person cannot do anything about it but try later: say so on the sign-in page, keep where they were
            // going, and leave the cause (which names the provider's URL) to the operators' log.
            log.LogWarning("Sign-in could not start: the provider's configuration could not be read ({Error})", e.Message);
            return Results.LocalRedirect(QueryHelpers.AddQueryString("/signin", new Dictionary<string, string?>
            {
                ["error"] = "provider", ["ReturnUrl"] = target,
            }));
        }
        return Results.Challenge(new AuthenticationProperties { RedirectUri = target }, [OidcSignIn.Scheme]);
    }

    /// <summary>Signs in as one of the demo users. Antiforgery is validated for the form by the framework.</summary>
    private static async Task<IResult> DevelopmentSignInAsync(
        HttpContext http, [FromForm] string user, [FromForm] string? returnUrl,
        UserDirectory directory, SessionStore sessions, AuditLog audit, ILogger<UserDirectory> log)
    {
        var demo = DemoUsers.Find(user);
        if (demo is null)
        {
            await audit.AppendAsync(AuditEventFactory.For(new ClaimsPrincipal(), AuditAction.SignInFailed, AuditOutcome.Denied,
                "Development sign-in: unknown demo user", http), http.RequestAborted);
            return Results.Problem("Unknown demo user.", statusCode: StatusCodes.Status400BadRequest);
        }

        var row = await directory.SignedInAsync(DemoUsers.Issuer, $"demo-{demo.Key}", demo.DisplayName, demo.Email, true,
            [demo.Role], [demo.Group], http.RequestAborted);
        if (row.IsDisabled)
        {
            // The same refusal as a provider sign-in of a disabled person: recorded, no session, no cookie.
            var refused = AuditEventFactory.For(new ClaimsPrincipal(), AuditAction.SignInFailed, AuditOutcome.Denied, "The person's portal account is disabled.", http);
            (refused.ActorUserId, refused.ActorSubject, refused.ActorDisplayName) = (row.Id, row.Subject, row.DisplayName);
            await audit.AppendAsync(refused, http.RequestAborted);
            return Results.LocalRedirect("/signin?error=1");
        }
        var sessionId = await sessions.StartAsync(row.Id, null, http.RequestAborted);
        var principal = PortalPrincipal.Create(row, [demo.Role], [demo.Group], sessionId);

        await audit.AppendAsync(AuditEventFactory.For(principal, AuditAction.SignIn, AuditOutcome.Allowed,
            "Development sign-in", http), http.RequestAborted);
        await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, principal);
        log.LogInformation("Development sign-in as {DemoUser}", demo.Key);
        return Results.LocalRedirect(ReturnUrls.LocalOrHome(returnUrl));
    }

    /// <summary>Ends the portal session and, for a provider sign-in, the provider's session too (RP-initiated logout).</summary>
    private static async Task SignOutAsync(HttpContext http, AuditLog audit, SessionStore sessions, PortalSettings settings,
        Microsoft.AspNetCore.Antiforgery.IAntiforgery antiforgery, Microsoft.Extensions.Options.IOptionsMonitor<OpenIdConnectOptions> handlerOptions,
        ILogger<SignInFailures> log)
    {
        // The form carries the token; checked here because this endpoint binds no form (so the framework would not).
        if (!await antiforgery.IsRequestValidAsync(http))
        {
            await Results.Problem("The sign-out form was not valid. Reload the page and try again.", statusCode: StatusCodes.Status400BadRequest).ExecuteAsync(http);
            return;
        }
        // Read before the session ends: after that the cookie no longer authenticates.
        var idToken = await http.GetTokenAsync(CookieAuthenticationDefaults.AuthenticationScheme, OpenIdConnectParameterNames.IdToken);
        await audit.AppendAsync(AuditEventFactory.For(http, AuditAction.SignOut, AuditOutcome.Allowed, "Signed out"), http.RequestAborted);
        if (http.User.SessionId() is { } sessionId) await sessions.EndAsync(sessionId, "Signed out", http.RequestAborted);
        await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);

        if (settings.Oidc && idToken is not null && await EndSessionEndpointAsync(http, handlerOptions, log) is not null)
        {
            // The handler sends the person to the provider's end_session_endpoint with id_token_hint and, on the way
            // back (SignedOutCallbackPath), to the sign-in page.
            http.Items[OidcSignIn.IdTokenHintItem] = idToken;
            await http.SignOutAsync(OidcSignIn.Scheme, new AuthenticationProperties { RedirectUri = "/signin?signedOut=1" });
            return;
        }
        http.Response.Redirect("/signin?signedOut=1");
    }

    /// <summary>The provider's end_session_endpoint, or null when it has none or cannot be reached (then sign-out is local).</summary>
    private static async Task<string?> EndSessionEndpointAsync(HttpContext http, Microsoft.Extensions.Options.IOptionsMonitor<OpenIdConnectOptions> handlerOptions,
        ILogger log)
    {
        try
        {
            var configuration = await OidcSignIn.ConfigurationAsync(handlerOptions.Get(OidcSignIn.Scheme), http.RequestAborted);
            return string.IsNullOrEmpty(configuration.EndSessionEndpoint) ? null : configuration.EndSessionEndpoint;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogWarning("Signed out here only: the provider's configuration could not be read ({Error})", e.Message);
            return null;
        }
    }

    /// <summary>OpenID Connect Back-Channel Logout: a validated logout_token ends the matching portal sessions.</summary>
    private static async Task<IResult> BackChannelLogoutAsync(HttpContext http, BackChannelLogout logout)
    {
        http.Response.Headers.CacheControl = "no-store";
        // OpenID Connect Back-Channel Logout 1.0, 2.5: the token comes as a form post; anything else is a bad request.
        if (!http.Request.HasFormContentType)
            return Results.Problem("Send the logout_token as application/x-www-form-urlencoded.", statusCode: StatusCodes.Status400BadRequest);
        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var outcome = await logout.HandleAsync(http, form["logout_token"].ToString());
        return outcome.StatusCode switch
        {
            StatusCodes.Status200OK => Results.Ok(),
            StatusCodes.Status400BadRequest => Results.BadRequest(new { error = "invalid_request" }),
            var status => Results.StatusCode(status),
        };
    }
}
