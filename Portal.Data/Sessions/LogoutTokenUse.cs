using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Data.Sessions;

/// <summary>
/// A back-channel logout token already acted on (its issuer and jti), kept until the token expires so that a
/// replay is refused by every app instance.
/// </summary>
public class LogoutTokenUse
{
    public required string Issuer { get; set; }
    public required string TokenId { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
}

internal sealed class LogoutTokenUseConfiguration : IEntityTypeConfiguration<LogoutTokenUse>
{
    public void Configure(EntityTypeBuilder<LogoutTokenUse> use)
    {
        use.HasKey(u => new { u.Issuer, u.TokenId });
        use.Property(u => u.Issuer).HasMaxLength(255);
        use.Property(u => u.TokenId).HasMaxLength(255);
        use.HasIndex(u => u.ExpiresAt);
    }
}
