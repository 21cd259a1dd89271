using Portal.App.Auth;
using Portal.App.Hosting;

namespace Portal.Tests.Auth;

/// <summary>Claim values to portal roles, as configured; unmapped people are refused or get Staff.</summary>
public class RoleMappingTests
{
    private static OidcOptions Options(string unmapped = "Refuse") => new()
    {
        RoleMap = { ["portal-admins"] = PortalRoles.Admin, ["staff"] = PortalRoles.Staff, ["auditors"] = PortalRoles.ComplianceOfficer },
        UnmappedUsers = unmapped,
    };

    [Fact]
    public void Every_mapped_value_gives_its_role_once() =>
        Assert.Equal([PortalRoles.Admin, PortalRoles.Staff], RoleMapping.Roles(Options(), ["portal-admins", "staff", "staff", "other"]));

    [Fact]
    public void Values_are_matched_exactly() =>
        Assert.Empty(RoleMapping.Roles(Options(), ["Portal-Admins", "staff "]));

    [Fact]
    public void Nobody_mapped_is_refused_by_default() =>
        Assert.Empty(RoleMapping.Roles(Options(), ["visitors"]));

    [Fact]
    public void Nobody_mapped_gets_staff_when_configured() =>
        Assert.Equal([PortalRoles.Staff], RoleMapping.Roles(Options("Staff"), ["visitors"]));

    [Fact]
    public void A_mapped_person_gets_only_their_roles_even_when_unmapped_people_get_staff() =>
        Assert.Equal([PortalRoles.ComplianceOfficer], RoleMapping.Roles(Options("Staff"), ["auditors"]));
}
