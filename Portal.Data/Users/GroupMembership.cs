namespace Portal.Data.Users;

/// <summary>A user's membership of a group, refreshed from the groups claim at each sign-in.</summary>
public class GroupMembership
{
    public Guid UserId { get; set; }
    public User? User { get; set; }
    public Guid GroupId { get; set; }
    public Group? Group { get; set; }
}
