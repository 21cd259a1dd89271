using System.Security.Claims;
using Portal.Data.Users;

namespace Portal.App.Auth;

/// <summary>The principal in the portal's session cookie, the same whichever way the person signed in.</summary>
public static class PortalPrincipal
{
    public const string AuthenticationType = "Portal";

    public static ClaimsPrincipal Create(User user, IEnumerable<string> roles, IEnumerable<string> groups, Guid sessionId) =>
        Create(user.Id, user.Issuer, user.Subject, user.DisplayName, user.Email, roles, groups, sessionId);

    /// <summary>The principal of a live session, from the server side (users and memberships tables).</summary>
    public static ClaimsPrincipal Create(SessionUser user, Guid sessionId) =>
        Create(user.UserId, user.Issuer, user.Subject, user.DisplayName, user.Email, user.Roles, user.Groups, sessionId);

    private static ClaimsPrincipal Create(Guid userId, string issuer, string subject, string displayName, string? email,
        IEnumerable<string> roles, IEnumerable<string> groups, Guid sessionId)
    {
        var claims = new List<Claim>
        {
            new(PortalClaims.UserId, userId.ToString()),
            new(PortalClaims.Subject, subject),
            new(PortalClaims.Issuer, issuer),
            new(ClaimTypes.Name, displayName),
            new(PortalClaims.SessionId, sessionId.ToString()),
        };
        if (email is { Length: > 0 }) claims.Add(new Claim(ClaimTypes.Email, email));
        claims.AddRange(roles.Distinct().Select(r => new Claim(ClaimTypes.Role, r)));
        claims.AddRange(groups.Distinct().Select(g => new Claim(PortalClaims.Group, g)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, AuthenticationType, ClaimTypes.Name, ClaimTypes.Role));
    }

    public static Guid? SessionId(this ClaimsPrincipal principal) =>
        Guid.TryParse(principal.FindFirstValue(PortalClaims.SessionId), out var id) ? id : null;
}
