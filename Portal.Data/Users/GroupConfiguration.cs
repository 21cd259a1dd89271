using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Data.Users;

internal sealed class GroupConfiguration : IEntityTypeConfiguration<Group>
{
    public void Configure(EntityTypeBuilder<Group> group)
    {
        group.HasKey(g => g.Id);
        group.Property(g => g.Name).HasMaxLength(200).IsRequired();
        group.HasIndex(g => g.Name).IsUnique();
    }
}
