using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Portal.App.Auth;
using Portal.Data.Audit;

namespace Portal.App.Audit;

/// <summary>
/// Records a signed-in person refused a page or endpoint for want of a role, then answers as usual (the "No access"
/// page): invalid access attempts belong on the record. The audit log's own page and exports are recorded as denied
/// AuditLogViewed / AuditExported (separation of duties: compliance sees an admin who tried); anything else, such as
/// staff opening /admin/users, as a denied AccessRefused naming the page. A refusal that cannot be recorded fails
/// closed (503).
/// </summary>
public sealed class AccessRefusals(AuditLog audit, ILogger<AccessRefusals> log) : IAuthorizationMiddlewareResultHandler
{
    public const string NotComplianceOfficer = "Not a compliance officer";

    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext http, AuthorizationPolicy policy, PolicyAuthorizationResult result)
    {
        if (result.Forbidden && http.User.Identity?.IsAuthenticated == true && RefusalFor(http.GetEndpoint()) is { } refusal)
        {
            var e = AuditEventFactory.For(http, refusal.Action, AuditOutcome.Denied, refusal.Reason);
            e.TargetPath = refusal.Target; // shown as the target: "/admin/users"
            await audit.AppendAsync(e, http.RequestAborted);
            log.LogInformation("{Action} refused to {User} on {Path}: {Reason}", refusal.Action, http.User.Identity.Name, http.Request.Path.Value, refusal.Reason);
        }
        await _default.HandleAsync(next, http, policy, result);
    }

    internal sealed record Refusal(AuditAction Action, string Reason, string? Target);

    /// <summary>What a refusal at an endpoint is recorded as, by its route and the roles it asks for.</summary>
    internal static Refusal? RefusalFor(Endpoint? endpoint)
    {
        if (endpoint is not RouteEndpoint route) return null;
        var path = route.RoutePattern.RawText?.TrimEnd('/').ToLowerInvariant() ?? "";
        if (path.Length == 0) path = "/";
        return path switch
        {
            "/audit" => new Refusal(AuditAction.AuditLogViewed, NotComplianceOfficer, null),
            "/audit/export.csv" or "/audit/export.jsonl" => new Refusal(AuditAction.AuditExported, NotComplianceOfficer, null),
            _ => new Refusal(AuditAction.AccessRefused,
                PageRoles.InWords(endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>()) is { } roles ? $"Only for {roles}" : "Not allowed", path),
        };
    }
}
