namespace Portal.Data.Permissions;

/// <summary>What a principal may do in a folder. Flags: an entry can grant several.</summary>
[Flags]
public enum Rights
{
    None = 0,
    Browse = 1,
    Download = 2,
    Upload = 4,
    Manage = 8,
    All = Browse | Download | Upload | Manage,
}
