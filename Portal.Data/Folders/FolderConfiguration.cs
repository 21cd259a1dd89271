using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Data.Permissions;

namespace Portal.Data.Folders;

internal sealed class FolderConfiguration : IEntityTypeConfiguration<Folder>
{
    public void Configure(EntityTypeBuilder<Folder> folder)
    {
        folder.HasKey(f => f.Id);
        folder.ToTable(t => t.HasTrigger(AccessVersion.TriggerOn("Folders")));
        folder.Property(f => f.Name).HasMaxLength(255).IsRequired();
        // 33 characters per level; 1,000 allows a depth of 30, far past what people browse.
        folder.Property(f => f.Path).HasMaxLength(1000).IsRequired().IsUnicode(false);
        folder.HasIndex(f => f.Path);
        folder.HasIndex(f => new { f.ParentId, f.Name });
        folder.HasIndex(f => f.DeletionId);
        folder.HasOne(f => f.Parent).WithMany(f => f.Children).HasForeignKey(f => f.ParentId)
            .OnDelete(DeleteBehavior.Restrict);
    }
}
