using Portal.Data.Database;
using Portal.Data.Folders;
using Portal.Data.Users;

namespace Portal.Data.Documents;

public class Document : ITimestamped
{
    public Guid Id { get; set; }
    public Guid FolderId { get; set; }
    public Folder? Folder { get; set; }

    /// <summary>The name people see and download under, kept as given (Unicode). Never a path.</summary>
    public required string DisplayName { get; set; }

    /// <summary>SHA-256 of the content, lowercase hex: also the storage key, so storage never sees a name.</summary>
    public required string ContentHash { get; set; }

    public long Size { get; set; }
    public required string ContentType { get; set; }
    public Guid? UploadedByUserId { get; set; }
    public User? UploadedBy { get; set; }
    public bool IsDeleted { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
