using Microsoft.AspNetCore.Antiforgery;
using Portal.App.Permissions;

namespace Portal.App.Users;

/// <summary>The users API for admins (the users page uses the same <see cref="UserAdministration"/>).</summary>
public static class UserEndpoints
{
    public static IEndpointRouteBuilder MapUserEndpoints(this IEndpointRouteBuilder app)
    {
        var users = app.MapGroup("/api/users").RequireAuthorization().DisableAntiforgery();
        users.MapGet("", async (HttpContext http, UserAdministration admin) => (await admin.ListAsync(http.User, http.RequestAborted)).ToHttp());
        users.MapPost("/{userId:guid}/disable", (Guid userId, HttpContext http, IAntiforgery antiforgery, UserAdministration admin) =>
            SetAsync(userId, true, http, antiforgery, admin));
        users.MapPost("/{userId:guid}/enable", (Guid userId, HttpContext http, IAntiforgery antiforgery, UserAdministration admin) =>
            SetAsync(userId, false, http, antiforgery, admin));
        return app;
    }

    private static async Task<IResult> SetAsync(Guid userId, bool disabled, HttpContext http, IAntiforgery antiforgery, UserAdministration admin)
    {
        if (await PermissionEndpoints.AntiforgeryProblemAsync(http, antiforgery) is { } bad) return bad;
        return (await admin.SetDisabledAsync(http.User, http, userId, disabled, http.RequestAborted)).ToHttp();
    }
}
