using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Data.Documents;

internal sealed class DocumentVersionConfiguration : IEntityTypeConfiguration<DocumentVersion>
{
    public void Configure(EntityTypeBuilder<DocumentVersion> version)
    {
        version.HasKey(v => v.Id);
        version.Property(v => v.ContentHash).HasMaxLength(64).IsFixedLength().IsUnicode(false).IsRequired();
        version.Property(v => v.ContentType).HasMaxLength(127).IsUnicode(false).IsRequired();
        version.HasIndex(v => new { v.DocumentId, v.Number }).IsUnique();
        // Emptying the bin asks "does anything else still use these bytes?"
        version.HasIndex(v => v.ContentHash);
        version.HasOne(v => v.Document).WithMany(d => d.Versions).HasForeignKey(v => v.DocumentId).OnDelete(DeleteBehavior.Cascade);
        version.HasOne(v => v.UploadedBy).WithMany().HasForeignKey(v => v.UploadedByUserId).OnDelete(DeleteBehavior.SetNull);
    }
}
