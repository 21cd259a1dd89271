using System.Security.Claims;
using Portal.Data.Permissions;

namespace Portal.App.Auth;

public static class ClaimsPrincipalExtensions
{
    /// <summary>The actor for permission checks, or null when the principal is not a signed-in portal user.</summary>
    public static Actor? ToActor(this ClaimsPrincipal user) =>
        user.Identity?.IsAuthenticated == true && Guid.TryParse(user.FindFirstValue(PortalClaims.UserId), out var id)
            ? new Actor(id, user.IsInRole(PortalRoles.Admin))
            : null;

    public static IReadOnlyList<string> Groups(this ClaimsPrincipal user) =>
        user.FindAll(PortalClaims.Group).Select(c => c.Value).ToList();
}
