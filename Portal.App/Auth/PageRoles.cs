using System.Reflection;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;

namespace Portal.App.Auth;

/// <summary>
/// The roles a page is for, from its [Authorize(Roles = …)], said in words: the "no access" message names them, so a
/// signed-in person who lacks one learns whom to ask instead of being sent back to the sign-in page.
/// </summary>
public static class PageRoles
{
    private static readonly Dictionary<string, string> Words = new(StringComparer.Ordinal)
    {
        [PortalRoles.Admin] = "administrators",
        [PortalRoles.ComplianceOfficer] = "compliance officers",
        [PortalRoles.Staff] = "staff",
    };

    /// <summary>Pages by their fixed routes ("/audit"); pages with route parameters require no role.</summary>
    private static readonly Dictionary<string, Type> PagesByRoute = typeof(PageRoles).Assembly.GetTypes()
        .Where(t => typeof(IComponent).IsAssignableFrom(t))
        .SelectMany(t => t.GetCustomAttributes<RouteAttribute>().Select(r => (r.Template, Type: t)))
        .Where(r => !r.Template.Contains('{'))
        .DistinctBy(r => r.Template, StringComparer.OrdinalIgnoreCase)
        .ToDictionary(r => r.Template, r => r.Type, StringComparer.OrdinalIgnoreCase);

    /// <summary>"compliance officers", "administrators and staff"…; null when the page names no role.</summary>
    public static string? InWords(Type? pageType) =>
        pageType is null ? null : InWords(pageType.GetCustomAttributes<AuthorizeAttribute>(inherit: true));

    /// <summary>The same for an endpoint's authorization metadata (a page's [Authorize] or RequireAuthorization).</summary>
    public static string? InWords(IEnumerable<IAuthorizeData> authorization)
    {
        var roles = authorization
            .SelectMany(a => (a.Roles ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Distinct().Select(r => Words.GetValueOrDefault(r, r)).ToList();
        return roles.Count > 0 ? string.Join(" and ", roles) : null;
    }

    /// <summary>
    /// The roles of the page at a local path such as a ReturnUrl ("/audit?x=1"). Only looked up, never shown: an
    /// unknown or foreign path names no role.
    /// </summary>
    public static string? InWordsForPath(string? returnUrl)
    {
        if (string.IsNullOrEmpty(returnUrl) || !returnUrl.StartsWith('/') || returnUrl.StartsWith("//")) return null;
        var path = returnUrl.Split('?', '#')[0].TrimEnd('/');
        return PagesByRoute.TryGetValue(path.Length == 0 ? "/" : path, out var page) ? InWords(page) : null;
    }
}
