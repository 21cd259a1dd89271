using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Portal.App.Audit;
using Portal.App.Auth.Oidc;
using Portal.App.Hosting;
using Portal.Data.Audit;

namespace Portal.App.Auth;

public static class AuthEndpoints
{
    public const string SignedOutCallbackPath = "/signout-callback-oidc";

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
            auth.MapGet("/login", (string? returnUrl) => Results.Challenge(
                new AuthenticationProperties { RedirectUri = SafeReturnUrl(returnUrl) }, [PortalOidcHandler.SchemeName]));
            // The provider calls this server to server with a signed logout_token: no cookie, no antiforgery token.
            auth.MapPost("/backchannel-logout", BackChannelLogoutAsync).DisableAntiforgery().AllowAnonymous();
            app.MapGet(SignedOutCallbackPath, () => Results.LocalRedirect("/signin?signedOut=1")).AllowAnonymous();
        }
        return app;
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

        var row = await directory.SignedInAsync(DemoUsers.Issuer, $"demo-{demo.Key}", demo.DisplayName, demo.Email,
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
        return Results.LocalRedirect(SafeReturnUrl(returnUrl));
    }

    /// <summary>Ends the portal session and, for a provider sign-in, the provider's session too (RP-initiated logout).</summary>
    private static async Task<IResult> SignOutAsync(HttpContext http, AuditLog audit, SessionStore sessions, IServiceProvider services,
        Microsoft.AspNetCore.Antiforgery.IAntiforgery antiforgery)
    {
        // The form carries the token; checked here because this endpoint binds no form (so the framework would not).
        if (!await antiforgery.IsRequestValidAsync(http))
            return Results.Problem("The sign-out form was not valid. Reload the page and try again.", statusCode: StatusCodes.Status400BadRequest);
        await audit.AppendAsync(AuditEventFactory.For(http, AuditAction.SignOut, AuditOutcome.Allowed, "Signed out"), http.RequestAborted);
        if (http.User.SessionId() is { } sessionId) await sessions.EndAsync(sessionId, "Signed out", http.RequestAborted);
        var idToken = await http.GetTokenAsync(CookieAuthenticationDefaults.AuthenticationScheme, "id_token");
        await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);

        if (idToken is not null && services.GetService<OidcDiscovery>() is { } discovery
            && (await discovery.GetMetadataAsync(http.RequestAborted)).EndSessionEndpoint is { } endSession)
        {
            var back = $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}{SignedOutCallbackPath}";
            return Results.Redirect(QueryHelpers.AddQueryString(endSession, new Dictionary<string, string?>
            {
                ["id_token_hint"] = idToken,
                ["post_logout_redirect_uri"] = back,
            }));
        }
        return Results.LocalRedirect("/signin?signedOut=1");
    }

    /// <summary>OpenID Connect Back-Channel Logout: a validated logout_token ends the matching portal sessions.</summary>
    private static async Task<IResult> BackChannelLogoutAsync(
        HttpContext http, OidcTokenValidator validator, OidcDiscovery discovery, SessionStore sessions, AuditLog audit,
        Microsoft.Extensions.Options.IOptions<OidcOptions> oidc)
    {
        http.Response.Headers.CacheControl = "no-store";
        // OpenID Connect Back-Channel Logout 1.0, 2.5: the token comes as a form post; anything else is a bad request.
        if (!http.Request.HasFormContentType)
            return Results.Problem("Send the logout_token as application/x-www-form-urlencoded.", statusCode: StatusCodes.Status400BadRequest);
        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var token = form["logout_token"].ToString();
        TokenValidationResult result;
        try
        {
            result = string.IsNullOrEmpty(token)
                ? new TokenValidationResult(TokenFailure.Malformed, "No logout_token.", default)
                : await validator.ValidateLogoutTokenAsync(token, oidc.Value.ClientId!, http.RequestAborted);
        }
        catch (OidcException e)
        {
            // The provider's keys could not be read: nothing can be verified, so nothing is ended; it may retry.
            await audit.AppendAsync(AuditEventFactory.For(new ClaimsPrincipal(), AuditAction.SignOut, AuditOutcome.Denied,
                $"Back-channel logout not verified: {e.Message}", http), http.RequestAborted);
            return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
        }
        if (!result.Succeeded)
        {
            await audit.AppendAsync(AuditEventFactory.For(new ClaimsPrincipal(), AuditAction.SignOut, AuditOutcome.Denied,
                $"Back-channel logout refused: {result.Failure}. {result.Detail}", http), http.RequestAborted);
            return Results.BadRequest(new { error = "invalid_request" });
        }

        var sid = result.Claims.TryGetProperty("sid", out var s) ? s.GetString() : null;
        var sub = result.Claims.TryGetProperty("sub", out var u) ? u.GetString() : null;
        var issuer = (await discovery.GetMetadataAsync(http.RequestAborted)).Issuer;
        var ended = await sessions.EndByProviderAsync(issuer, sid, sub, "Back-channel logout from the provider", http.RequestAborted);
        foreach (var session in ended)
        {
            var e = AuditEventFactory.ForSessionOf(session.UserId, session.User?.Subject, session.User?.DisplayName,
                session.User?.Memberships.Select(m => m.Group!.Name) ?? [], session.Id,
                AuditAction.SignOut, AuditOutcome.Allowed, "Back-channel logout from the provider", http);
            await audit.AppendAsync(e, http.RequestAborted);
        }
        return Results.Ok();
    }

    /// <summary>Only a local path is followed after sign-in; anything else goes home (no open redirect).</summary>
    internal static string SafeReturnUrl(string? returnUrl) =>
        !string.IsNullOrEmpty(returnUrl) && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//") && !returnUrl.StartsWith("/\\")
            && !returnUrl.Any(char.IsControl)
            ? returnUrl
            : "/";
}
