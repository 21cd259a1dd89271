using System.Security.Claims;
using Portal.Data.Users;

namespace Portal.App.Auth;

/// <summary>The principal in the portal's session cookie, the same whichever way the person signed in.</summary>
public static class PortalPrincipal
{
    public const string AuthenticationType = "Portal";

    public static ClaimsPrincipal Create(User user, IEnumerable<string> roles, IEnumerable<string> groups, Guid sessionId)
    {
        var claims = new List<Claim>
        {
            new(PortalClaims.UserId, user.Id.ToString()),
            new(PortalClaims.Subject, user.Subject),
            new(PortalClaims.Issuer, user.Issuer),
            new(ClaimTypes.Name, user.DisplayName),
            new(PortalClaims.SessionId, sessionId.ToString()),
        };
        if (user.Email is { Length: > 0 } email) claims.Add(new Claim(ClaimTypes.Email, email));
        claims.AddRange(roles.Distinct().Select(r => new Claim(ClaimTypes.Role, r)));
        claims.AddRange(groups.Distinct().Select(g => new Claim(PortalClaims.Group, g)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, AuthenticationType, ClaimTypes.Name, ClaimTypes.Role));
    }

    public static Guid? SessionId(this ClaimsPrincipal principal) =>
        Guid.TryParse(principal.FindFirstValue(PortalClaims.SessionId), out var id) ? id : null;
}
