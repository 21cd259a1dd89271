namespace Portal.App.Auth;

/// <summary>A person of the development sign-in.</summary>
public sealed record DemoUser(string Key, string DisplayName, string Email, string Role, string Group, string Description);

/// <summary>The development sign-in's people: one per role. They exist only in Development without an OIDC authority.</summary>
public static class DemoUsers
{
    public const string Issuer = "urn:portal:development-sign-in";

    public static readonly IReadOnlyList<DemoUser> All =
    [
        new("admin", "Ada Admin", "ada@example.org", PortalRoles.Admin, "portal-admins", "Manages folders, documents and permissions"),
        new("staff", "Sam Staff", "sam@example.org", PortalRoles.Staff, "staff", "Browses and downloads what staff are granted"),
        new("staff2", "Tom Staff", "tom@example.org", PortalRoles.Staff, "staff", "Another staff member: what is granted to Sam alone stays hidden from him"),
        new("compliance", "Cora Compliance", "cora@example.org", PortalRoles.ComplianceOfficer, "compliance", "Reviews the audit log"),
    ];

    public static DemoUser? Find(string? key) => All.FirstOrDefault(u => u.Key == key);
}
