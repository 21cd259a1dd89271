namespace Portal.Data.Users;

/// <summary>A group as named by the identity provider's groups claim.</summary>
public class Group
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    public List<GroupMembership> Members { get; set; } = [];
}
