using Microsoft.AspNetCore.Components.Authorization;
using Portal.App.Auth;

namespace Portal.App.Audit;

/// <summary>Every action of the audit page's components re-checks the role on the server: the page attribute alone is not trusted.</summary>
public static class AuditAccess
{
    public static async Task<bool> IsOfficerAsync(Task<AuthenticationState>? state) =>
        state is not null && (await state).User.IsInRole(PortalRoles.ComplianceOfficer);
}
