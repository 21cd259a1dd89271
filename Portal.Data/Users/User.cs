using Portal.Data.Database;

namespace Portal.Data.Users;

/// <summary>A person, identified by their identity provider's issuer and subject.</summary>
public class User : ITimestamped
{
    public Guid Id { get; set; }
    public required string Issuer { get; set; }
    public required string Subject { get; set; }
    public string? Email { get; set; }
    /// <summary>
    /// The provider vouched for <see cref="Email"/> (email_verified, or a provider configured as trusted for e-mail):
    /// only then does a grant by e-mail find this person.
    /// </summary>
    public bool EmailVerified { get; set; }
    public required string DisplayName { get; set; }

    /// <summary>Portal roles at the last sign-in, comma separated (they come from the provider's claims).</summary>
    public string Roles { get; set; } = "";

    public DateTimeOffset? LastSeenAt { get; set; }
    public bool IsDisabled { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public List<GroupMembership> Memberships { get; set; } = [];
}
