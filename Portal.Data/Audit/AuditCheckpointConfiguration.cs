using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Data.Audit;

internal sealed class AuditCheckpointConfiguration : IEntityTypeConfiguration<AuditCheckpoint>
{
    public void Configure(EntityTypeBuilder<AuditCheckpoint> checkpoint)
    {
        checkpoint.HasKey(c => c.Id);
        // Assigned before signing (the signature covers it).
        checkpoint.Property(c => c.Id).ValueGeneratedNever();
        checkpoint.Property(c => c.LastRemovedHash).HasMaxLength(64).IsFixedLength().IsUnicode(false).IsRequired();
        checkpoint.Property(c => c.Signature).HasMaxLength(64).IsFixedLength().IsUnicode(false).IsRequired();
        // The append-only triggers of AuditEvents allow a DELETE only up to the highest checkpoint: keep that lookup cheap.
        checkpoint.HasIndex(c => c.LastRemovedId).IsUnique();
    }
}
