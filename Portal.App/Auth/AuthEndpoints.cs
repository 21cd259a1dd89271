using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;
using Portal.App.Audit;
using Portal.Data.Audit;

namespace Portal.App.Auth;

public static class AuthEndpoints
{
    public static IEndpointRouteBuilder MapAuthEndpoints(this IEndpointRouteBuilder app, bool developmentSignIn)
    {
        var auth = app.MapGroup("/auth");
        auth.MapPost("/signout", SignOutAsync).RequireAuthorization();
        // Registered only in Development without an OIDC authority (PortalSettings decides): in any other
        // configuration the route does not exist at all.
        if (developmentSignIn) auth.MapPost("/dev-signin", DevelopmentSignInAsync);
        return app;
    }

    /// <summary>Signs in as one of the demo users. Antiforgery is validated for the form by the framework.</summary>
    private static async Task<IResult> DevelopmentSignInAsync(
        HttpContext http, [FromForm] string user, [FromForm] string? returnUrl,
        UserDirectory directory, AuditLog audit, ILogger<UserDirectory> log)
    {
        var demo = DemoUsers.Find(user);
        if (demo is null) return Results.Problem("Unknown demo user.", statusCode: StatusCodes.Status400BadRequest);

        var row = await directory.SignedInAsync(DemoUsers.Issuer, $"demo-{demo.Key}", demo.DisplayName, demo.Email,
            [demo.Role], [demo.Group], http.RequestAborted);
        var sessionId = Guid.NewGuid().ToString("N");
        var identity = new ClaimsIdentity(
        [
            new Claim(PortalClaims.UserId, row.Id.ToString()),
            new Claim(PortalClaims.Subject, row.Subject),
            new Claim(PortalClaims.Issuer, row.Issuer),
            new Claim(ClaimTypes.Name, row.DisplayName),
            new Claim(ClaimTypes.Role, demo.Role),
            new Claim(PortalClaims.Group, demo.Group),
            new Claim(PortalClaims.SessionId, sessionId),
        ], CookieAuthenticationDefaults.AuthenticationScheme, ClaimTypes.Name, ClaimTypes.Role);
        var principal = new ClaimsPrincipal(identity);

        await audit.AppendAsync(AuditEventFactory.For(principal, AuditAction.SignIn, AuditOutcome.Allowed,
            "Development sign-in", http), http.RequestAborted);
        await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, principal);
        log.LogInformation("Development sign-in as {DemoUser}", demo.Key);
        return Results.LocalRedirect(SafeReturnUrl(returnUrl));
    }

    private static async Task<IResult> SignOutAsync(HttpContext http, AuditLog audit)
    {
        await audit.AppendAsync(AuditEventFactory.For(http, AuditAction.SignOut, AuditOutcome.Allowed), http.RequestAborted);
        await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        return Results.LocalRedirect("/signin");
    }

    /// <summary>Only a local path is followed after sign-in; anything else goes home (no open redirect).</summary>
    internal static string SafeReturnUrl(string? returnUrl) =>
        !string.IsNullOrEmpty(returnUrl) && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//") && !returnUrl.StartsWith("/\\")
            && !returnUrl.Any(char.IsControl)
            ? returnUrl
            : "/";
}
