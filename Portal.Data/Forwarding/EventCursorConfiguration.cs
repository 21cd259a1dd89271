using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Data.Forwarding;

internal sealed class EventCursorConfiguration : IEntityTypeConfiguration<EventCursor>
{
    public void Configure(EntityTypeBuilder<EventCursor> cursor)
    {
        cursor.HasKey(c => c.Name);
        cursor.Property(c => c.Name).HasMaxLength(100).IsUnicode(false);
        cursor.Property(c => c.LastError).HasMaxLength(1000);
        cursor.Property(c => c.LeaseHolder).HasMaxLength(200).IsUnicode(false);
    }
}
