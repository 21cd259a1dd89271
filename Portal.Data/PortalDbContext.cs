using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Portal.Data.Audit;
using Portal.Data.Documents;
using Portal.Data.Downloads;
using Portal.Data.Folders;
using Portal.Data.Forwarding;
using Portal.Data.Alerts;
using Portal.Data.Permissions;
using Portal.Data.Sessions;
using Portal.Data.Users;

namespace Portal.Data;

/// <summary>
/// The portal's model. Each database provider has a subclass (<see cref="Database.SqlitePortalDbContext"/> …)
/// only so that each keeps its own migrations; the app always works with this type.
/// </summary>
public abstract class PortalDbContext(DbContextOptions options) : DbContext(options), IDataProtectionKeyContext
{
    public DbSet<Folder> Folders => Set<Folder>();
    public DbSet<Document> Documents => Set<Document>();
    public DbSet<DocumentVersion> DocumentVersions => Set<DocumentVersion>();
    public DbSet<User> Users => Set<User>();
    public DbSet<Group> Groups => Set<Group>();
    public DbSet<GroupMembership> GroupMemberships => Set<GroupMembership>();
    public DbSet<PermissionEntry> PermissionEntries => Set<PermissionEntry>();
    public DbSet<AccessVersion> AccessVersions => Set<AccessVersion>();
    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();
    public DbSet<AuditCheckpoint> AuditCheckpoints => Set<AuditCheckpoint>();
    public DbSet<AuditSignedHead> AuditSignedHeads => Set<AuditSignedHead>();
    public DbSet<DeliveryReceipt> DeliveryReceipts => Set<DeliveryReceipt>();
    public DbSet<UserSession> Sessions => Set<UserSession>();
    public DbSet<LogoutTokenUse> LogoutTokenUses => Set<LogoutTokenUse>();
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<EventCursor> EventCursors => Set<EventCursor>();
    public DbSet<AlertRule> AlertRules => Set<AlertRule>();
    public DbSet<Alert> Alerts => Set<Alert>();
    public DbSet<DownloadSuspension> DownloadSuspensions => Set<DownloadSuspension>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(PortalDbContext).Assembly);
}
