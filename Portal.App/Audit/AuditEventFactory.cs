using System.Security.Claims;
using Portal.App.Auth;
using Portal.Data.Audit;

namespace Portal.App.Audit;

/// <summary>Fills the "who, from where" part of an audit event from the request. Never copies a cookie or token.</summary>
public static class AuditEventFactory
{
    public static AuditEvent For(HttpContext http, AuditAction action, AuditOutcome outcome, string? reason = null) =>
        For(http.User, action, outcome, reason, http);

    public static AuditEvent For(ClaimsPrincipal user, AuditAction action, AuditOutcome outcome, string? reason, HttpContext? http)
    {
        var userId = Guid.TryParse(user.FindFirstValue(PortalClaims.UserId), out var id) ? id : (Guid?)null;
        return new AuditEvent
        {
            Action = action,
            Outcome = outcome,
            Reason = Truncate(reason, 500),
            ActorUserId = userId,
            ActorSubject = Truncate(user.FindFirstValue(PortalClaims.Subject), 255),
            ActorDisplayName = Truncate(user.Identity?.Name, 200),
            ActorGroups = Truncate(string.Join(',', user.Groups()), 2000),
            SessionId = Truncate(user.FindFirstValue(PortalClaims.SessionId), 100),
            CorrelationId = Truncate(http?.TraceIdentifier, 100),
            // RemoteIpAddress is the forwarded client address only when the request came through a trusted proxy.
            ClientIp = http?.Connection.RemoteIpAddress?.ToString(),
            UserAgent = Truncate(http?.Request.Headers.UserAgent.ToString(), 500),
            FetchSite = FetchSite(http),
        };
    }

    /// <summary>
    /// The request's Sec-Fetch-Site, for every event made from a request (not only downloads): whether another site
    /// started a change, a sign-in or a download is worth knowing on any of them. Only the four standard values are
    /// kept as sent; anything else is "other" (never free text from the client); none sent is null.
    /// </summary>
    internal static string? FetchSite(HttpContext? http)
    {
        if (http is null || !http.Request.Headers.TryGetValue("Sec-Fetch-Site", out var values)) return null;
        var value = values.ToString().Trim();
        return value.ToLowerInvariant() switch
        {
            "" => null,
            "cross-site" => "cross-site",
            "same-site" => "same-site",
            "same-origin" => "same-origin",
            "none" => "none",
            _ => "other",
        };
    }

    /// <summary>
    /// An event about a person's session that somebody or something else ended (the provider's back-channel logout, the
    /// expiry sweep): who they were, with their groups, comes from the database, not from the request.
    /// </summary>
    public static AuditEvent ForSessionOf(Guid userId, string? subject, string? displayName, IEnumerable<string> groups, Guid sessionId,
        AuditAction action, AuditOutcome outcome, string? reason, HttpContext? http)
    {
        var e = For(new ClaimsPrincipal(), action, outcome, reason, http);
        e.ActorUserId = userId;
        e.ActorSubject = Truncate(subject, 255);
        e.ActorDisplayName = Truncate(displayName, 200);
        e.ActorGroups = Truncate(string.Join(',', groups.Order(StringComparer.Ordinal)), 2000);
        e.SessionId = sessionId.ToString();
        return e;
    }

    private static string? Truncate(string? value, int max) =>
        string.IsNullOrEmpty(value) ? null : value.Length <= max ? value : value[..max];
}
