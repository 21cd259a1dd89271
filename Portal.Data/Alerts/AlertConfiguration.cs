using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Data.Alerts;

internal sealed class AlertRuleConfiguration : IEntityTypeConfiguration<AlertRule>
{
    public void Configure(EntityTypeBuilder<AlertRule> rule)
    {
        rule.HasKey(r => r.Id);
        rule.Property(r => r.Name).HasMaxLength(200).IsRequired();
        rule.Property(r => r.Kind).HasConversion<string>().HasMaxLength(40).IsUnicode(false);
        rule.Property(r => r.TimeZone).HasMaxLength(100).IsUnicode(false);
    }
}

internal sealed class AlertConfiguration : IEntityTypeConfiguration<Alert>
{
    public void Configure(EntityTypeBuilder<Alert> alert)
    {
        alert.HasKey(a => a.Id);
        alert.Property(a => a.RuleName).HasMaxLength(200);
        alert.Property(a => a.RuleKind).HasConversion<string>().HasMaxLength(40).IsUnicode(false);
        alert.Property(a => a.Status).HasConversion<string>().HasMaxLength(20).IsUnicode(false);
        alert.Property(a => a.UserDisplayName).HasMaxLength(200);
        alert.Property(a => a.Summary).HasMaxLength(500);
        alert.Property(a => a.EvidenceEventIds).HasMaxLength(4000).IsUnicode(false);
        alert.Property(a => a.AcknowledgedBy).HasMaxLength(200);
        alert.Property(a => a.ResolvedBy).HasMaxLength(200);
        // One alert per rule and triggering event: an evaluator that replays events after a crash finds it there.
        alert.HasIndex(a => new { a.RuleId, a.TriggerEventId }).IsUnique();
        alert.HasIndex(a => new { a.Status, a.RaisedAt });
    }
}

internal sealed class DownloadSuspensionConfiguration : IEntityTypeConfiguration<DownloadSuspension>
{
    public void Configure(EntityTypeBuilder<DownloadSuspension> suspension)
    {
        suspension.HasKey(s => s.UserId);
        suspension.Property(s => s.UserDisplayName).HasMaxLength(200);
        suspension.Property(s => s.Reason).HasMaxLength(500);
    }
}
