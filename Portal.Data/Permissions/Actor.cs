namespace Portal.Data.Permissions;

/// <summary>Who is asking, as the permission rules need it: the user row and whether a role bypasses grants.</summary>
/// <param name="UserId">The signed-in user's id.</param>
/// <param name="IsAdmin">Admins may do everything in every folder.</param>
public sealed record Actor(Guid UserId, bool IsAdmin);
