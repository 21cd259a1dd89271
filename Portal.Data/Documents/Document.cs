using Portal.Data.Database;
using Portal.Data.Folders;
using Portal.Data.Users;

namespace Portal.Data.Documents;

public class Document : ITimestamped
{
    public Guid Id { get; set; }
    public Guid FolderId { get; set; }
    public Folder? Folder { get; set; }

    private string _displayName = "";

    /// <summary>The name people see and download under, kept as given (Unicode). Never a path.</summary>
    public required string DisplayName
    {
        get => _displayName;
        set { _displayName = value; SortName = NameSortKey.For(value); }
    }

    /// <summary>
    /// <see cref="DisplayName"/> folded for ordering and search in the database (lowercase, no accents), so a page of
    /// 10,000 documents is sorted and searched by an index the same way on every provider and collation.
    /// </summary>
    public string SortName { get; private set; } = "";

    /// <summary>SHA-256 of the content, lowercase hex: also the storage key, so storage never sees a name.</summary>
    public required string ContentHash { get; set; }

    public long Size { get; set; }
    public required string ContentType { get; set; }
    public Guid? UploadedByUserId { get; set; }
    public User? UploadedBy { get; set; }
    /// <summary>The number of the version <see cref="ContentHash"/> and friends describe (1 for a first upload).</summary>
    public int CurrentVersion { get; set; } = 1;

    /// <summary>Every version kept, the current one included (documents from before versions have none: their current is 1).</summary>
    public List<DocumentVersion> Versions { get; set; } = [];

    public bool IsDeleted { get; set; }
    /// <inheritdoc cref="Folders.Folder.DeletionId"/>
    public Guid? DeletionId { get; set; }
    public DateTimeOffset? DeletedAt { get; set; }
    public Guid? DeletedByUserId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
