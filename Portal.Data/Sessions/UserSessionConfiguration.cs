using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Data.Sessions;

internal sealed class UserSessionConfiguration : IEntityTypeConfiguration<UserSession>
{
    public void Configure(EntityTypeBuilder<UserSession> session)
    {
        session.HasKey(s => s.Id);
        session.Property(s => s.ProviderSessionId).HasMaxLength(255);
        session.Property(s => s.EndReason).HasMaxLength(200);
        session.HasIndex(s => s.ProviderSessionId);
        session.HasIndex(s => new { s.UserId, s.EndedAt });
        // The expiry sweep looks only at live sessions (EndedAt null) every minute, however many have ended.
        session.HasIndex(s => new { s.EndedAt, s.LastActivityAt });
        session.HasOne(s => s.User).WithMany().HasForeignKey(s => s.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
