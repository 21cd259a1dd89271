using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Diagnostics;

namespace Portal.App.Hosting;

/// <summary>
/// A request the framework could not bind or read (a form with a missing or forged antiforgery token, a malformed or
/// cut-off form or multipart body) answers 400, not 500: it is the client's mistake or an attack, not a fault of the
/// portal (found by bench/reliability.sh's fuzzing of the sign-in form and the upload endpoint).
/// </summary>
public sealed class BadRequestHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        if (StatusFor(exception) is not { } status || http.Response.HasStarted) return false;
        http.Response.Clear();
        http.Response.StatusCode = status;
        const string detail = "The request was not valid (for a form: reload the page and try again).";
        if (await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = http,
                ProblemDetails = { Status = status, Title = "Bad request", Detail = detail },
            }))
            return true;
        http.Response.ContentType = "text/plain; charset=utf-8";
        await http.Response.WriteAsync(detail, ct);
        return true;
    }

    /// <summary>The 4xx status for an exception caused by the request itself, or null for anything else.</summary>
    internal static int? StatusFor(Exception exception) => exception switch
    {
        BadHttpRequestException bad => bad.StatusCode,
        AntiforgeryValidationException => StatusCodes.Status400BadRequest,
        // The form and multipart readers' "not a valid body" (bad characters, headers too long, bad boundaries)…
        InvalidDataException => StatusCodes.Status400BadRequest,
        // …and "the body ended in the middle of a part" (a cut-off upload).
        IOException { Source: "Microsoft.AspNetCore.WebUtilities" } => StatusCodes.Status400BadRequest,
        _ => null,
    };
}
