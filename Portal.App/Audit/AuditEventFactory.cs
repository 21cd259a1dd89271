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
        };
    }

    private static string? Truncate(string? value, int max) =>
        string.IsNullOrEmpty(value) ? null : value.Length <= max ? value : value[..max];
}
