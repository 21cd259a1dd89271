using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;

namespace Portal.App.Auth;

/// <summary>Every request: a cookie whose session has ended (signed out elsewhere, back-channel logout) no longer counts.</summary>
public sealed class SessionCookieEvents(SessionStore sessions) : CookieAuthenticationEvents
{
    /// <summary>
    /// Secure everywhere but on the developer's own machine: over https always, and a plain-http request for a
    /// real host name still gets a Secure cookie (which the browser then only sends back over https).
    /// </summary>
    public override Task SigningIn(CookieSigningInContext context)
    {
        context.CookieOptions.Secure = context.Request.IsHttps || !IsLocal(context.Request.Host.Host);
        return Task.CompletedTask;
    }

    internal static bool IsLocal(string host) =>
        host is "localhost" || (System.Net.IPAddress.TryParse(host.Trim('[', ']'), out var ip) && System.Net.IPAddress.IsLoopback(ip));

    public override async Task ValidatePrincipal(CookieValidatePrincipalContext context)
    {
        if (context.Principal?.SessionId() is { } id && await sessions.IsActiveAsync(id, context.HttpContext.RequestAborted)) return;
        context.RejectPrincipal();
        await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
    }
}

/// <summary>
/// Open Blazor circuits re-check their session every 30 s: when it ends, the circuit's user becomes anonymous
/// and the pages show the sign-in prompt instead of documents.
/// </summary>
public sealed class SessionRevalidatingAuthenticationStateProvider(ILoggerFactory logs, SessionStore sessions)
    : RevalidatingServerAuthenticationStateProvider(logs)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromSeconds(30);

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState state, CancellationToken ct)
    {
        try
        {
            return state.User.SessionId() is { } id && await sessions.IsActiveAsync(id, ct);
        }
        catch (ObjectDisposedException)
        {
            return false; // the app is shutting down under an open circuit: nothing can be checked, so nothing is allowed
        }
    }
}
