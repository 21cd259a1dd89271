using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Data.Downloads;

internal sealed class DeliveryReceiptConfiguration : IEntityTypeConfiguration<DeliveryReceipt>
{
    public void Configure(EntityTypeBuilder<DeliveryReceipt> receipt)
    {
        receipt.HasKey(r => r.Id);
        receipt.Property(r => r.Range).HasMaxLength(200).IsUnicode(false);
        // No foreign key: the audit log is append-only and must never be blocked by this table.
        receipt.HasIndex(r => r.AuditEventId);
    }
}
