using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.AspNetCore.WebUtilities;

namespace Portal.App.Auth;

/// <summary>
/// Every request: a cookie whose session has ended (signed out elsewhere, back-channel logout) or expired no longer
/// counts; a request on a live session is activity that keeps it from going idle.
/// </summary>
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
        if (context.Principal?.SessionId() is { } id)
        {
            var state = await sessions.ActivityAsync(id, context.HttpContext.RequestAborted);
            if (state == SessionState.Active)
            {
                // The cookie only names the session: who it is, and their roles and groups, come from the server side,
                // so a cookie re-issued with more claims gains nothing.
                var user = await sessions.UserAsync(id, context.HttpContext.RequestAborted);
                if (user is not null && context.Principal.FindFirstValue(PortalClaims.UserId) == user.UserId.ToString())
                {
                    context.ReplacePrincipal(PortalPrincipal.Create(user, id));
                    return;
                }
            }
            else context.HttpContext.Items[SessionEndNotice.ItemKey] = state;
        }
        context.RejectPrincipal();
        await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
    }

    /// <summary>A request that needs sign-in after its session expired: the sign-in page says why.</summary>
    public override Task RedirectToLogin(RedirectContext<CookieAuthenticationOptions> context)
    {
        context.RedirectUri = SessionEndNotice.AddTo(context.RedirectUri, context.HttpContext.Items[SessionEndNotice.ItemKey] as SessionState?);
        return base.RedirectToLogin(context);
    }
}

/// <summary>Tells the sign-in page that a session expired, and how ("ended=idle" or "ended=lifetime").</summary>
public static class SessionEndNotice
{
    public const string ItemKey = "portal.session.state";
    public const string Query = "ended";

    public static string? QueryValue(SessionState? state) => state switch
    {
        SessionState.IdleTimedOut => "idle",
        SessionState.LifetimeReached => "lifetime",
        _ => null,
    };

    public static string AddTo(string url, SessionState? state) =>
        QueryValue(state) is { } value ? QueryHelpers.AddQueryString(url, Query, value) : url;
}

/// <summary>
/// A click or other input in an open page is activity on the person's session (the page talks over its circuit, not
/// in requests). Input after the session ended signs the page out at once, rather than at the next 30 s check.
/// </summary>
public sealed class SessionActivityCircuitHandler(AuthenticationStateProvider authentication, SessionStore sessions,
    ILogger<SessionActivityCircuitHandler> log) : CircuitHandler
{
    public override Func<CircuitInboundActivityContext, Task> CreateInboundActivityHandler(Func<CircuitInboundActivityContext, Task> next) =>
        async context =>
        {
            try
            {
                var user = (await authentication.GetAuthenticationStateAsync()).User;
                if (user.SessionId() is { } id && await sessions.ActivityAsync(id) is var state and not SessionState.Active)
                    (authentication as SessionRevalidatingAuthenticationStateProvider)?.EndNow(state);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The session store is unreachable (database down); the 30 s revalidation decides, and the input goes on
                // to components whose own database work reports the outage.
                log.LogWarning(e, "Could not record activity on a circuit's session");
            }
            await next(context);
        };
}

/// <summary>
/// Open Blazor circuits re-check their session every 30 s: when it ends, the circuit's user becomes anonymous
/// and the pages show the sign-in prompt instead of documents.
/// </summary>
public sealed class SessionRevalidatingAuthenticationStateProvider(ILoggerFactory logs, SessionStore sessions)
    : RevalidatingServerAuthenticationStateProvider(logs)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromSeconds(30);

    /// <summary>Why the page's session stopped counting, once it did (for the sign-in page's message).</summary>
    public SessionState? EndedBecause { get; private set; }

    /// <summary>Makes the page's user anonymous now: the pages show the sign-in prompt instead of documents.</summary>
    public void EndNow(SessionState why)
    {
        EndedBecause = why;
        SetAuthenticationState(Task.FromResult(new AuthenticationState(new ClaimsPrincipal(new ClaimsIdentity()))));
    }

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState state, CancellationToken ct)
    {
        try
        {
            if (state.User.SessionId() is not { } id) return false;
            var now = await sessions.StateAsync(id, ct);
            if (now != SessionState.Active) EndedBecause = now;
            return now == SessionState.Active;
        }
        catch (ObjectDisposedException)
        {
            return false; // the app is shutting down under an open circuit: nothing can be checked, so nothing is allowed
        }
    }
}
