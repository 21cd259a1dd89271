using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Portal.App.Documents;

namespace Portal.App.Folders;

/// <summary>A new name.</summary>
public sealed record NameRequest(string? Name);
/// <summary>A new folder: its name and the folder it goes in (null: the top level).</summary>
public sealed record CreateFolderRequest(string? Name, Guid? ParentId);
/// <summary>Where to move to (null: the top level, for folders).</summary>
public sealed record MoveRequest(Guid? TargetFolderId);

/// <summary>
/// HTTP endpoints for folders, documents and the bin: the same <see cref="FolderOperations"/>,
/// <see cref="DocumentOperations"/> and <see cref="RecycleBin"/> the pages call, so each right is checked on the
/// server however the request arrives. Every change needs the antiforgery token (header RequestVerificationToken).
/// </summary>
public static class FolderEndpoints
{
    public static IEndpointRouteBuilder MapFolderEndpoints(this IEndpointRouteBuilder app)
    {
        var changes = app.MapGroup("").RequireAuthorization().DisableAntiforgery().AddEndpointFilter(RequireAntiforgeryToken);

        changes.MapPost("/folders", (CreateFolderRequest body, HttpContext http, FolderOperations folders) =>
            Run(() => folders.CreateAsync(Caller.Of(http), body.ParentId, body.Name ?? "", http.RequestAborted)));
        changes.MapPost("/folders/{id:guid}/rename", (Guid id, NameRequest body, HttpContext http, FolderOperations folders) =>
            Run(() => folders.RenameAsync(Caller.Of(http), id, body.Name ?? "", http.RequestAborted)));
        changes.MapPost("/folders/{id:guid}/move", (Guid id, MoveRequest body, HttpContext http, FolderOperations folders) =>
            Run(() => folders.MoveAsync(Caller.Of(http), id, body.TargetFolderId, http.RequestAborted)));
        changes.MapDelete("/folders/{id:guid}", (Guid id, bool? includingContents, HttpContext http, FolderOperations folders) =>
            Run(() => folders.DeleteAsync(Caller.Of(http), id, includingContents == true, http.RequestAborted)));

        changes.MapPost("/documents/{id:guid}/rename", (Guid id, NameRequest body, HttpContext http, DocumentOperations documents) =>
            Run(() => documents.RenameAsync(Caller.Of(http), id, body.Name ?? "", http.RequestAborted)));
        changes.MapPost("/documents/{id:guid}/move", (Guid id, MoveRequest body, HttpContext http, DocumentOperations documents) =>
            body.TargetFolderId is { } target
                ? Run(() => documents.MoveAsync(Caller.Of(http), id, target, http.RequestAborted))
                : Task.FromResult(Results.Problem("Say which folder to move the document to.", statusCode: StatusCodes.Status400BadRequest)));
        changes.MapDelete("/documents/{id:guid}", (Guid id, HttpContext http, DocumentOperations documents) =>
            Run(() => documents.DeleteAsync(Caller.Of(http), id, http.RequestAborted)));
        changes.MapPost("/documents/{id:guid}/versions", AddVersionAsync);

        changes.MapPost("/bin/{deletionId:guid}/restore", (Guid deletionId, HttpContext http, RecycleBin bin) =>
            Run(() => bin.RestoreAsync(Caller.Of(http), deletionId, http.RequestAborted)));
        changes.MapDelete("/bin/{deletionId:guid}", (Guid deletionId, HttpContext http, RecycleBin bin) =>
            Run(() => bin.EmptyAsync(Caller.Of(http), deletionId, http.RequestAborted)));
        changes.MapPost("/bin/empty", (HttpContext http, RecycleBin bin) =>
            Run(() => bin.EmptyAsync(Caller.Of(http), null, http.RequestAborted)));

        app.MapGet("/documents/{id:guid}/versions", async (Guid id, HttpContext http, DocumentOperations documents) =>
            Results.Ok(await documents.VersionsAsync(Caller.Of(http), id, http.RequestAborted))).RequireAuthorization();
        return app;
    }

    private static async Task<IResult> Run(Func<Task<OperationResult>> operation) => (await operation()).ToHttp();

    /// <summary>Changes come from the portal's own pages only: the token they carry proves it (checked before any body is read).</summary>
    private static async ValueTask<object?> RequireAntiforgeryToken(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!await http.RequestServices.GetRequiredService<IAntiforgery>().IsRequestValidAsync(http))
            return Results.Problem("The request did not carry a valid antiforgery token. Reload the page and try again.", statusCode: StatusCodes.Status400BadRequest);
        return await next(context);
    }

    /// <summary>POST /documents/{id}/versions: one file, streamed like an upload, becomes the document's next version.</summary>
    private static async Task<IResult> AddVersionAsync(Guid id, HttpContext http, DocumentOperations documents, IOptions<UploadOptions> options)
    {
        var ct = http.RequestAborted;
        var caller = Caller.Of(http);
        // Refused before a byte of the body is read.
        if (await documents.MayAddVersionAsync(caller, id, ct) is { Succeeded: false } refused) return refused.ToHttp();
        if (!MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var mediaType) || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value is not { Length: > 0 and <= 200 } boundary)
            return Results.Problem("Send the file as multipart/form-data.", statusCode: StatusCodes.Status415UnsupportedMediaType);
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = null;

        var reader = new MultipartReader(boundary, http.Request.Body);
        while (await reader.ReadNextSectionAsync(ct) is { } section)
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || !disposition.IsFileDisposition()) continue;
            var name = (disposition.FileNameStar.HasValue ? disposition.FileNameStar.Value : HeaderUtilities.RemoveQuotes(disposition.FileName).Value) ?? "";
            return (await documents.AddVersionAsync(caller, id, name, section.Body, options.Value.MaxFileBytes, ct)).ToHttp();
        }
        return Results.Problem("The request held no file.", statusCode: StatusCodes.Status400BadRequest);
    }
}
