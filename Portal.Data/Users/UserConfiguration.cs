using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Data.Users;

internal sealed class UserConfiguration : IEntityTypeConfiguration<User>
{
    public void Configure(EntityTypeBuilder<User> user)
    {
        user.HasKey(u => u.Id);
        user.Property(u => u.Issuer).HasMaxLength(400).IsRequired();
        user.Property(u => u.Subject).HasMaxLength(255).IsRequired();
        user.Property(u => u.Email).HasMaxLength(320);
        user.Property(u => u.DisplayName).HasMaxLength(200).IsRequired();
        user.Property(u => u.Roles).HasMaxLength(200).IsRequired();
        user.HasIndex(u => new { u.Issuer, u.Subject }).IsUnique();
    }
}
