using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Data.Permissions;

internal sealed class AccessVersionConfiguration : IEntityTypeConfiguration<AccessVersion>
{
    public void Configure(EntityTypeBuilder<AccessVersion> row)
    {
        row.ToTable("AccessVersion");
        row.HasKey(a => a.Id);
        row.Property(a => a.Id).ValueGeneratedNever();
        // The one row exists from the first migration on; the triggers only ever update it.
        row.HasData(new AccessVersion { Id = AccessVersion.RowId, Version = 0 });
    }
}
