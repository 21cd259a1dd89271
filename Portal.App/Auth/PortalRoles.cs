namespace Portal.App.Auth;

/// <summary>The portal's roles. They come from the identity provider's claims, never from user input.</summary>
public static class PortalRoles
{
    public const string Admin = "Admin";
    public const string ComplianceOfficer = "ComplianceOfficer";
    public const string Staff = "Staff";
}

/// <summary>Claim types the portal puts in its session cookie.</summary>
public static class PortalClaims
{
    /// <summary>The portal's own user id (a Guid), not the provider's subject.</summary>
    public const string UserId = "portal:uid";
    public const string Subject = "sub";
    public const string Issuer = "portal:iss";
    public const string Group = "portal:group";
    /// <summary>Identifies one sign-in, recorded with every audit event of that session.</summary>
    public const string SessionId = "portal:sid";
}
