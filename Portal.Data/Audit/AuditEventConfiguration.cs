using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Data.Audit;

internal sealed class AuditEventConfiguration : IEntityTypeConfiguration<AuditEvent>
{
    public void Configure(EntityTypeBuilder<AuditEvent> audit)
    {
        audit.HasKey(e => e.Id);
        // Assigned by AuditLog, consecutively, so the chain order is the id order whatever the provider.
        audit.Property(e => e.Id).ValueGeneratedNever();
        audit.Property(e => e.Action).HasConversion<string>().HasMaxLength(40).IsUnicode(false);
        audit.Property(e => e.Outcome).HasConversion<string>().HasMaxLength(10).IsUnicode(false);
        audit.Property(e => e.Reason).HasMaxLength(500);
        audit.Property(e => e.ActorSubject).HasMaxLength(255);
        audit.Property(e => e.ActorDisplayName).HasMaxLength(200);
        audit.Property(e => e.ActorGroups).HasMaxLength(2000);
        audit.Property(e => e.SessionId).HasMaxLength(100).IsUnicode(false);
        audit.Property(e => e.CorrelationId).HasMaxLength(100).IsUnicode(false);
        audit.Property(e => e.ClientIp).HasMaxLength(45).IsUnicode(false);
        audit.Property(e => e.UserAgent).HasMaxLength(500);
        audit.Property(e => e.FetchSite).HasMaxLength(20).IsUnicode(false);
        audit.Property(e => e.TargetPath).HasMaxLength(2000);
        audit.Property(e => e.TargetName).HasMaxLength(255);
        audit.Property(e => e.ContentHash).HasMaxLength(64).IsUnicode(false);
        audit.Property(e => e.Range).HasMaxLength(200).IsUnicode(false);
        audit.Property(e => e.PreviousHash).HasMaxLength(64).IsFixedLength().IsUnicode(false).IsRequired();
        audit.Property(e => e.Hash).HasMaxLength(64).IsFixedLength().IsUnicode(false).IsRequired();
        // No foreign keys on purpose: the log outlives the users, folders and documents it names.
        // Keyset paging (newest first, "id < last seen") for each filter of the compliance view: the filter's column
        // then the id, so the first page of any single filter is an index range read, whatever the log's size.
        audit.HasIndex(e => e.OccurredAt);
        audit.HasIndex(e => new { e.DocumentId, e.Id });
        audit.HasIndex(e => new { e.ActorUserId, e.Id });
        audit.HasIndex(e => new { e.FolderId, e.Id });
        audit.HasIndex(e => new { e.Action, e.Id });
        audit.HasIndex(e => new { e.Outcome, e.Id });
        audit.HasIndex(e => new { e.ClientIp, e.Id });
    }
}
