using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using Portal.App.Audit;
using Portal.App.Auth;
using Portal.Data.Audit;
using Portal.Data.Permissions;

namespace Portal.App.Folders;

/// <summary>
/// Who asks for a change, as both callers have it: an HTTP request (endpoint) or a signed-in circuit (component, no
/// HttpContext). The operations take the rights from here, never from the caller's UI.
/// </summary>
public sealed record Caller(ClaimsPrincipal User, HttpContext? Http = null)
{
    public Actor? Actor => User.ToActor();
    public static Caller Of(HttpContext http) => new(http.User, http);

    internal AuditEvent Audit(AuditAction action, AuditOutcome outcome, string? reason = null) =>
        AuditEventFactory.For(User, action, outcome, reason, Http);
}

public enum OperationStatus { Done, NotFound, Forbidden, Invalid, Conflict, TooLarge }

/// <summary>The answer of a folder or document operation, with a message a person can act on when it failed.</summary>
public sealed record OperationResult(OperationStatus Status, string? Message = null, Guid? Id = null)
{
    public bool Succeeded => Status == OperationStatus.Done;
    public static OperationResult Done(Guid? id = null) => new(OperationStatus.Done, null, id);
    public static OperationResult NotFound(string message) => new(OperationStatus.NotFound, message);
    public static OperationResult Forbidden(string message) => new(OperationStatus.Forbidden, message);
    public static OperationResult Invalid(string message) => new(OperationStatus.Invalid, message);
    public static OperationResult Conflict(string message) => new(OperationStatus.Conflict, message);

    /// <summary>The HTTP answer for an endpoint: 200 with the id, or a problem document saying why.</summary>
    public IResult ToHttp() => Status switch
    {
        OperationStatus.Done => Results.Ok(new { id = Id }),
        OperationStatus.NotFound => Results.Problem(Message, statusCode: StatusCodes.Status404NotFound),
        OperationStatus.Forbidden => Results.Problem(Message, statusCode: StatusCodes.Status403Forbidden),
        OperationStatus.Conflict => Results.Problem(Message, statusCode: StatusCodes.Status409Conflict),
        OperationStatus.TooLarge => Results.Problem(Message, statusCode: StatusCodes.Status413PayloadTooLarge),
        _ => Results.Problem(Message, statusCode: StatusCodes.Status400BadRequest),
    };
}

/// <summary>The before/after JSON of <see cref="AuditEvent.Changes"/>.</summary>
public static class AuditChanges
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        // Names stay readable in the log (Unicode as is); this is stored, never written into HTML unencoded.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Of(object? before, object? after) => JsonSerializer.Serialize(new { before, after }, Json);
}

/// <summary>What a folder's name may be: the same rule as a document's (any Unicode, no control characters).</summary>
public static class FolderNames
{
    public static string? Problem(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return "A folder needs a name.";
        if (name.Length > 255) return "A folder name is longer than 255 characters.";
        if (name.Any(char.IsControl)) return "A folder name contains control characters (such as line breaks or NUL), which are not allowed.";
        if (name.Trim() is "." or "..") return "A folder cannot be named \".\" or \"..\".";
        return null;
    }
}
