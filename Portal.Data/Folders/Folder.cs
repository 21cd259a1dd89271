using Portal.Data.Database;
using Portal.Data.Documents;
using Portal.Data.Permissions;

namespace Portal.Data.Folders;

public class Folder : ITimestamped
{
    public Guid Id { get; set; }
    public Guid? ParentId { get; set; }
    public Folder? Parent { get; set; }
    public required string Name { get; set; }

    /// <summary>
    /// Materialised path of ids from the root down to and including this folder, as "/id/id/.../".
    /// Lets ancestor and subtree queries run without recursion; never built from names.
    /// </summary>
    public string Path { get; set; } = "/";

    /// <summary>False stops permissions of the folders above from applying here and below.</summary>
    public bool InheritPermissions { get; set; } = true;

    public bool IsDeleted { get; set; }
    /// <summary>
    /// Shared by everything one delete put in the bin (a folder, its subfolders and their documents), so a restore
    /// brings back exactly that and not what had been deleted on its own before.
    /// </summary>
    public Guid? DeletionId { get; set; }
    public DateTimeOffset? DeletedAt { get; set; }
    public Guid? DeletedByUserId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public List<Folder> Children { get; set; } = [];
    public List<Document> Documents { get; set; } = [];
    public List<PermissionEntry> Permissions { get; set; } = [];

    /// <summary>The path of a child of the folder with <paramref name="parentPath"/>.</summary>
    public static string ChildPath(string? parentPath, Guid id) => (parentPath ?? "/") + id.ToString("N") + "/";

    /// <summary>
    /// The length of the materialised path of a folder <paramref name="depth"/> levels down (1 for the top level):
    /// a slash, then 32 hex digits and a slash per level. A path's prefix of this length is its ancestor's path.
    /// </summary>
    public static int PathLengthAt(int depth) => 1 + 33 * depth;

    /// <summary>Ids on the materialised path, root first, this folder last.</summary>
    public static IReadOnlyList<Guid> AncestorIdsOf(string path) =>
        path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(s => Guid.ParseExact(s, "N")).ToList();
}
