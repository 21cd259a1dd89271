using Portal.Data.Users;

namespace Portal.Data.Sessions;

/// <summary>
/// One sign-in, server side: the cookie only names it, so the portal can end it (sign-out, the provider's
/// back-channel logout, a disabled user) and every request and open circuit notices.
/// </summary>
public class UserSession
{
    public Guid Id { get; set; }
    public Guid UserId { get; set; }
    public User? User { get; set; }
    /// <summary>The identity provider's session id (the id_token's "sid"), for back-channel logout.</summary>
    public string? ProviderSessionId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>
    /// When the person last did something (a request, or a click in an open page), as this table knows it: each app
    /// instance writes it at most about once a minute, so it may lag the real last activity by that much.
    /// </summary>
    public DateTimeOffset LastActivityAt { get; set; }
    public DateTimeOffset? EndedAt { get; set; }
    /// <summary>Why it ended: "Signed out", "Back-channel logout from the provider"…</summary>
    public string? EndReason { get; set; }
}
