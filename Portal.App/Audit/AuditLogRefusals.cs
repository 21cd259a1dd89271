using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Portal.Data.Audit;

namespace Portal.App.Audit;

/// <summary>
/// Records a signed-in person refused the audit log (the page, or an export) as a denied AuditLogViewed or
/// AuditExported event, then answers as usual (the "No access" page). Separation of duties: compliance sees who tried
/// to read the log without the role, admins included. A refusal that cannot be recorded fails closed (503).
/// </summary>
public sealed class AuditLogRefusals(AuditLog audit, ILogger<AuditLogRefusals> log) : IAuthorizationMiddlewareResultHandler
{
    public const string Reason = "Not a compliance officer";

    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext http, AuthorizationPolicy policy, PolicyAuthorizationResult result)
    {
        if (result.Forbidden && http.User.Identity?.IsAuthenticated == true && ActionFor(http.GetEndpoint()) is { } action)
        {
            await audit.AppendAsync(AuditEventFactory.For(http, action, AuditOutcome.Denied, Reason), http.RequestAborted);
            log.LogInformation("{Action} refused to {User}: not a compliance officer", action, http.User.Identity.Name);
        }
        await _default.HandleAsync(next, http, policy, result);
    }

    /// <summary>The audit action an endpoint stands for, by its route: the log's page and its exports.</summary>
    internal static AuditAction? ActionFor(Endpoint? endpoint) =>
        (endpoint as RouteEndpoint)?.RoutePattern.RawText?.TrimEnd('/').ToLowerInvariant() switch
        {
            "/audit" => AuditAction.AuditLogViewed,
            "/audit/export.csv" or "/audit/export.jsonl" => AuditAction.AuditExported,
            _ => null,
        };
}
