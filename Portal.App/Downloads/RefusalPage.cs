using System.Text;
using System.Text.Encodings.Web;

namespace Portal.App.Downloads;

/// <summary>
/// A refused download or view, answered for whoever asked. A person who followed a link (a browser navigating sends
/// Accept: text/html) gets a short page with the reason and a way back, not a JSON document; scripts and API clients
/// still get the problem document. Same status code either way.
/// </summary>
public static class RefusalPage
{
    public static IResult For(HttpContext http, int status, string message) =>
        WantsPage(http.Request)
            ? Results.Content(Html(status, message), "text/html; charset=utf-8", Encoding.UTF8, status)
            : Results.Problem(message, statusCode: status);

    /// <summary>A browser's navigation: it asks for HTML by name (fetch and API clients ask for JSON or anything).</summary>
    public static bool WantsPage(HttpRequest request) =>
        request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

    internal static string Html(int status, string message)
    {
        var title = status switch
        {
            StatusCodes.Status403Forbidden => "No access to this document",
            StatusCodes.Status404NotFound => "Document not found",
            StatusCodes.Status429TooManyRequests => "Too many downloads at once",
            StatusCodes.Status503ServiceUnavailable => "Not available right now",
            _ => "This link cannot be used",
        };
        var html = HtmlEncoder.Default;
        // Self-contained: no script, no stylesheet to fetch; the message is the app's own text, encoded all the same.
        return $$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{html.Encode(title)}} · Portal</title>
            <style>body{font-family:Roboto,system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#212121}h1{font-size:1.5rem;font-weight:500}a{color:#4340d2}</style>
            </head><body>
            <h1>{{html.Encode(title)}}</h1>
            <p data-testid="refusal-message">{{html.Encode(message)}}</p>
            <p><a href="/">Back to the documents</a></p>
            </body></html>
            """;
    }
}
