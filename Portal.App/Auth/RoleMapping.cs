using Portal.App.Hosting;

namespace Portal.App.Auth;

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
