namespace Portal.App.Permissions;

/// <summary>How an administrative operation ended.</summary>
public enum AdminOutcome
{
    Done,
    /// <summary>The caller lacks the right (Manage on the folder, or the Admin role).</summary>
    Forbidden,
    NotFound,
    /// <summary>The request itself is wrong (no rights ticked, an unknown group…): the message says what to fix.</summary>
    Invalid,
}

/// <summary>The result of an operation shared by the pages and the HTTP endpoints, with a message for people.</summary>
public sealed record AdminResult<T>(AdminOutcome Outcome, string Message, T? Value = default)
{
    public bool Succeeded => Outcome == AdminOutcome.Done;

    public static AdminResult<T> Done(T value, string message = "Done.") => new(AdminOutcome.Done, message, value);
    public static AdminResult<T> Forbidden(string message) => new(AdminOutcome.Forbidden, message);
    public static AdminResult<T> NotFound(string message) => new(AdminOutcome.NotFound, message);
    public static AdminResult<T> Invalid(string message) => new(AdminOutcome.Invalid, message);

    /// <summary>The HTTP answer: the value as JSON, or a problem document with the message.</summary>
    public IResult ToHttp() => Outcome switch
    {
        AdminOutcome.Done => Results.Ok(Value),
        AdminOutcome.Forbidden => Results.Problem(Message, statusCode: StatusCodes.Status403Forbidden),
        AdminOutcome.NotFound => Results.Problem(Message, statusCode: StatusCodes.Status404NotFound),
        _ => Results.Problem(Message, statusCode: StatusCodes.Status400BadRequest),
    };
}
