using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Data.Hosting;

/// <summary>
/// ASP.NET Core's data-protection keys (they encrypt session cookies and antiforgery tokens), kept in the database
/// through <c>PersistKeysToDbContext</c> so that every app instance shares one key ring.
/// </summary>
internal sealed class DataProtectionKeyConfiguration : IEntityTypeConfiguration<DataProtectionKey>
{
    public void Configure(EntityTypeBuilder<DataProtectionKey> key)
    {
        key.ToTable("DataProtectionKeys");
        key.HasKey(k => k.Id);
        key.Property(k => k.FriendlyName).HasMaxLength(200);
        key.Property(k => k.Xml).IsRequired();
    }
}
