using Portal.Data.Users;

namespace Portal.Data.Documents;

/// <summary>One version of a document's content. The document row repeats the current one's fields for fast listing.</summary>
public class DocumentVersion
{
    public Guid Id { get; set; }
    public Guid DocumentId { get; set; }
    public Document? Document { get; set; }
    /// <summary>1, 2, 3… in upload order.</summary>
    public int Number { get; set; }
    /// <summary>SHA-256 of this version's content: its storage key (content stored once, shared with any identical file).</summary>
    public required string ContentHash { get; set; }
    public long Size { get; set; }
    public required string ContentType { get; set; }
    public Guid? UploadedByUserId { get; set; }
    public User? UploadedBy { get; set; }
    public DateTimeOffset UploadedAt { get; set; }
}
