namespace Portal.Data.Audit;

/// <summary>What happened. Stored by name, so the log reads the same whatever the enum's order.</summary>
public enum AuditAction
{
    SignIn,
    SignInFailed,
    SignOut,
    FolderOpened,
    DocumentViewed,
    DocumentDownloaded,
    DocumentUploaded,
    DocumentRenamed,
    DocumentMoved,
    DocumentDeleted,
    DocumentRestored,
    DocumentVersionAdded,
    FolderCreated,
    FolderRenamed,
    FolderMoved,
    FolderDeleted,
    FolderRestored,
    /// <summary>An admin emptied the bin (or part of it): the items are gone for good.</summary>
    BinEmptied,
    PermissionGranted,
    PermissionChanged,
    PermissionRevoked,
    InheritanceChanged,
    UserDisabled,
    UserEnabled,
    AuditLogViewed,
    AuditExported,
    AuditChainVerified,
    /// <summary>Retention removed events older than the period; a signed checkpoint keeps the chain verifiable.</summary>
    AuditRetentionApplied,
    SettingsChanged,
    /// <summary>
    /// A signed-in person was refused a page or endpoint their role does not open (staff on /admin/users); the page is
    /// the target. The audit log's own refusals are denied AuditLogViewed / AuditExported.
    /// </summary>
    AccessRefused,
    /// <summary>
    /// An alert rule fired: the rule, the person and the evidence events' ids are in <see cref="AuditEvent.Changes"/>
    /// (<c>{"after":{"rule":…,"evidence":[…]}}</c>); the actor is <c>system</c>, the person the alert is about is named there.
    /// </summary>
    AlertRaised,
    AlertAcknowledged,
    AlertResolved,
    /// <summary>A compliance officer created, changed or removed an alert rule (before/after in Changes).</summary>
    AlertRuleChanged,
    /// <summary>A rule's automatic response stopped a person's downloads until a compliance officer releases them.</summary>
    DownloadsSuspended,
    DownloadsReleased,
}

public enum AuditOutcome
{
    Allowed,
    Denied,
}
