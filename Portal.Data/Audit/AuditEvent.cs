namespace Portal.Data.Audit;

/// <summary>
/// One entry of the append-only audit log. Names, paths and groups are copied as they were at that moment,
/// so later renames do not rewrite history. Never holds a token or a secret.
/// </summary>
public class AuditEvent
{
    public long Id { get; set; }
    public DateTimeOffset OccurredAt { get; set; }
    public AuditAction Action { get; set; }
    public AuditOutcome Outcome { get; set; }
    /// <summary>Why it was denied (or a short detail), in words a compliance officer reads.</summary>
    public string? Reason { get; set; }

    public Guid? ActorUserId { get; set; }
    public string? ActorSubject { get; set; }
    public string? ActorDisplayName { get; set; }
    /// <summary>The groups the actor had at that moment, comma separated.</summary>
    public string? ActorGroups { get; set; }
    public string? SessionId { get; set; }
    public string? CorrelationId { get; set; }
    /// <summary>The client address as the trusted proxy reported it (or the peer address without a proxy).</summary>
    public string? ClientIp { get; set; }
    public string? UserAgent { get; set; }
    /// <summary>
    /// The request's Sec-Fetch-Site as the browser sent it: "cross-site", "same-site", "same-origin", "none" (typed or
    /// bookmarked), "other" for anything else, null when the client sent none (scripts, older browsers, events not made
    /// from a request). A download that another site started shows here.
    /// </summary>
    public string? FetchSite { get; set; }

    public Guid? DocumentId { get; set; }
    public Guid? FolderId { get; set; }
    /// <summary>Folder path by names at that moment ("/Finance/2026").</summary>
    public string? TargetPath { get; set; }
    public string? TargetName { get; set; }
    public string? ContentHash { get; set; }
    public long? Size { get; set; }
    /// <summary>The Range header asked for, if any.</summary>
    public string? Range { get; set; }

    /// <summary>
    /// For a change: what it was before and after, as JSON {"before":{...},"after":{...}} (names, rights, flags;
    /// never a secret). Null for an access.
    /// </summary>
    public string? Changes { get; set; }

    /// <summary>Hash of the event before this one (64 zeros for the first): the chain that makes edits evident.</summary>
    public string PreviousHash { get; set; } = "";
    /// <summary>SHA-256 over this event's canonical form, including <see cref="PreviousHash"/>.</summary>
    public string Hash { get; set; } = "";
}
