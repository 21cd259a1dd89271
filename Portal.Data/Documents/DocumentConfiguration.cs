using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Data.Permissions;

namespace Portal.Data.Documents;

internal sealed class DocumentConfiguration : IEntityTypeConfiguration<Document>
{
    public void Configure(EntityTypeBuilder<Document> document)
    {
        document.HasKey(d => d.Id);
        document.ToTable(t => t.HasTrigger(AccessVersion.TriggerOn("Documents")));
        document.Property(d => d.DisplayName).HasMaxLength(255).IsRequired();
        document.Property(d => d.ContentHash).HasMaxLength(64).IsFixedLength().IsUnicode(false).IsRequired();
        document.Property(d => d.ContentType).HasMaxLength(127).IsUnicode(false).IsRequired();
        document.Property(d => d.SortName).HasMaxLength(255).IsRequired();
        document.HasIndex(d => new { d.FolderId, d.DisplayName });
        // The listing pages by folder in one of three orders; each has its index so the first page stays cheap.
        // One index per order, the id last as the tie-break, so a page is read in index order without sorting the
        // folder. IsDeleted is not a key column: EF writes the filter as NOT("IsDeleted"), which SQLite cannot seek
        // on, so a key column there would make it sort; it stays the residual filter (deleted rows are few).
        document.HasIndex(d => new { d.FolderId, d.SortName, d.Id });
        document.HasIndex(d => new { d.FolderId, d.UpdatedAt, d.Id });
        document.HasIndex(d => new { d.FolderId, d.Size, d.Id });
        document.HasIndex(d => d.DeletionId);
        document.HasIndex(d => d.ContentHash);
        document.HasOne(d => d.Folder).WithMany(f => f.Documents).HasForeignKey(d => d.FolderId)
            .OnDelete(DeleteBehavior.Restrict);
        document.HasOne(d => d.UploadedBy).WithMany().HasForeignKey(d => d.UploadedByUserId)
            .OnDelete(DeleteBehavior.SetNull);
    }
}
