using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Data.Permissions;

internal sealed class PermissionEntryConfiguration : IEntityTypeConfiguration<PermissionEntry>
{
    public void Configure(EntityTypeBuilder<PermissionEntry> entry)
    {
        entry.HasKey(p => p.Id);
        entry.ToTable(t => t.HasTrigger(AccessVersion.TriggerOn("PermissionEntries")));
        entry.Property(p => p.Rights).HasConversion<int>();
        // One entry per folder and principal, so two grants at once cannot leave two entries (NULLs are distinct,
        // so user entries and group entries do not collide through the empty column).
        entry.HasIndex(p => new { p.FolderId, p.UserId }).IsUnique();
        entry.HasIndex(p => new { p.FolderId, p.GroupId }).IsUnique();
        // An entry is for exactly one principal: a user or a group, never both, never neither.
        entry.ToTable(t => t.HasCheckConstraint("CK_PermissionEntries_OnePrincipal",
            "(\"UserId\" IS NULL AND \"GroupId\" IS NOT NULL) OR (\"UserId\" IS NOT NULL AND \"GroupId\" IS NULL)"));
        entry.HasOne(p => p.Folder).WithMany(f => f.Permissions).HasForeignKey(p => p.FolderId)
            .OnDelete(DeleteBehavior.Cascade);
        entry.HasOne(p => p.User).WithMany().HasForeignKey(p => p.UserId).OnDelete(DeleteBehavior.Cascade);
        entry.HasOne(p => p.Group).WithMany().HasForeignKey(p => p.GroupId).OnDelete(DeleteBehavior.Cascade);
    }
}
