using Microsoft.AspNetCore.Antiforgery;
using Portal.App.Auth;
using Portal.Data.Permissions;

namespace Portal.App.Permissions;

/// <summary>Body of a grant: exactly one of user (portal id, email or subject) and group (name), and the rights by name.</summary>
public sealed record GrantRequest(string? User, string? Group, string[]? Rights);
public sealed record ChangeRequest(string[]? Rights);
public sealed record InheritanceRequest(bool Inherit);

/// <summary>An explanation as JSON: the answer, the reasons, and every entry of the user's on the path.</summary>
public sealed record ExplainResponse(bool Allowed, string Right, IReadOnlyList<string> Effective, IReadOnlyList<string> Reasons,
    string Folder, bool IsAdmin, bool IsDisabled, IReadOnlyList<string> Groups, IReadOnlyList<EntryOnPath> Entries);

/// <summary>
/// The permission API (the same <see cref="PermissionAdministration"/> the access page uses). Changes need the
/// antiforgery token in the RequestVerificationToken header, like uploads: the session cookie alone is not enough.
/// </summary>
public static class PermissionEndpoints
{
    public static IEndpointRouteBuilder MapPermissionEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").RequireAuthorization().DisableAntiforgery();
        api.MapGet("/folders/{folderId:guid}/access", async (Guid folderId, HttpContext http, PermissionAdministration admin) =>
            (await admin.GetAccessAsync(http.User, folderId, http.RequestAborted)).ToHttp());
        // Whom a grant can name: people by name or e-mail, groups by name (the editor's picker).
        api.MapGet("/folders/{folderId:guid}/principals", async (Guid folderId, string? q, HttpContext http, PermissionAdministration admin) =>
            (await admin.SearchPrincipalsAsync(http.User, folderId, q, http.RequestAborted)).ToHttp());
        api.MapPost("/folders/{folderId:guid}/permissions", async (Guid folderId, GrantRequest body, HttpContext http, IAntiforgery antiforgery, PermissionAdministration admin) =>
        {
            if (await AntiforgeryProblemAsync(http, antiforgery) is { } bad) return bad;
            if (PermissionAdministration.ParseRights(body.Rights) is not { } rights) return UnknownRights();
            return (await admin.GrantAsync(http.User, http, folderId, new GrantTo(body.User, body.Group), rights, http.RequestAborted)).ToHttp();
        });
        api.MapPut("/permissions/{entryId:guid}", async (Guid entryId, ChangeRequest body, HttpContext http, IAntiforgery antiforgery, PermissionAdministration admin) =>
        {
            if (await AntiforgeryProblemAsync(http, antiforgery) is { } bad) return bad;
            if (PermissionAdministration.ParseRights(body.Rights) is not { } rights) return UnknownRights();
            return (await admin.ChangeAsync(http.User, http, entryId, rights, http.RequestAborted)).ToHttp();
        });
        api.MapDelete("/permissions/{entryId:guid}", async (Guid entryId, HttpContext http, IAntiforgery antiforgery, PermissionAdministration admin) =>
        {
            if (await AntiforgeryProblemAsync(http, antiforgery) is { } bad) return bad;
            return (await admin.RevokeAsync(http.User, http, entryId, http.RequestAborted)).ToHttp();
        });
        api.MapPut("/folders/{folderId:guid}/inheritance", async (Guid folderId, InheritanceRequest body, HttpContext http, IAntiforgery antiforgery, PermissionAdministration admin) =>
        {
            if (await AntiforgeryProblemAsync(http, antiforgery) is { } bad) return bad;
            return (await admin.SetInheritanceAsync(http.User, http, folderId, body.Inherit, http.RequestAborted)).ToHttp();
        });
        api.MapGet("/explain", async (Guid user, Guid folder, string right, HttpContext http, PermissionAdministration admin) =>
        {
            if (PermissionAdministration.ParseRights([right]) is not { } asked || asked == Rights.None) return UnknownRights();
            var result = await admin.ExplainAsync(http.User, user, folder, http.RequestAborted, http);
            if (!result.Succeeded) return result.ToHttp();
            var e = result.Value!;
            return Results.Ok(new ExplainResponse(e.Allows(asked), asked.ToString(), PermissionAdministration.Names(e.Effective), e.Reasons(asked),
                e.Folder.NamesPath, e.IsAdmin, e.IsDisabled, e.Groups, e.UserEntries));
        });
        return app;
    }

    private static IResult UnknownRights() =>
        Results.Problem("Rights are Browse, Download, Upload and Manage (by name).", statusCode: StatusCodes.Status400BadRequest);

    internal static async Task<IResult?> AntiforgeryProblemAsync(HttpContext http, IAntiforgery antiforgery) =>
        await antiforgery.IsRequestValidAsync(http)
            ? null
            : Results.Problem("The request did not carry a valid antiforgery token. Reload the page and try again.", statusCode: StatusCodes.Status400BadRequest);
}
