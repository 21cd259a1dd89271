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
    AuditLogViewed,
}

public enum AuditOutcome
{
    Allowed,
    Denied,
}
