using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Data.Permissions;

namespace Portal.Data.Users;

internal sealed class GroupMembershipConfiguration : IEntityTypeConfiguration<GroupMembership>
{
    public void Configure(EntityTypeBuilder<GroupMembership> membership)
    {
        membership.HasKey(m => new { m.UserId, m.GroupId });
        membership.ToTable(t => t.HasTrigger(AccessVersion.TriggerOn("GroupMemberships")));
        membership.HasIndex(m => m.GroupId);
        membership.HasOne(m => m.User).WithMany(u => u.Memberships).HasForeignKey(m => m.UserId)
            .OnDelete(DeleteBehavior.Cascade);
        membership.HasOne(m => m.Group).WithMany(g => g.Members).HasForeignKey(m => m.GroupId)
            .OnDelete(DeleteBehavior.Cascade);
    }
}
