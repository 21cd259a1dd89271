using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Data.Audit;

internal sealed class AuditSignedHeadConfiguration : IEntityTypeConfiguration<AuditSignedHead>
{
    public void Configure(EntityTypeBuilder<AuditSignedHead> head)
    {
        head.HasKey(h => h.Id);
        head.Property(h => h.EventHash).HasMaxLength(64).IsFixedLength().IsUnicode(false).IsRequired();
        head.Property(h => h.KeyId).HasMaxLength(16).IsUnicode(false).IsRequired();
        head.Property(h => h.Signature).HasMaxLength(120).IsUnicode(false).IsRequired();
        // The signer and verify-audit look up the newest head.
        head.HasIndex(h => h.EventId);
    }
}
