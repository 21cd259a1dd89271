using Portal.Data.Database;
using Portal.Data.Folders;
using Portal.Data.Users;

namespace Portal.Data.Permissions;

/// <summary>Grants <see cref="Rights"/> on a folder (and, by inheritance, below it) to one user or one group.</summary>
public class PermissionEntry : ITimestamped
{
    public Guid Id { get; set; }
    public Guid FolderId { get; set; }
    public Folder? Folder { get; set; }
    public Guid? UserId { get; set; }
    public User? User { get; set; }
    public Guid? GroupId { get; set; }
    public Group? Group { get; set; }
    public Rights Rights { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
