using System.Text;
using Portal.App.Hosting;

namespace Portal.App.Downloads;

/// <summary>
/// A refused download or view, answered for whoever asked. A person who followed a link (a browser navigating sends
/// Accept: text/html) gets a short page with the reason and a way back, not a JSON document; scripts and API clients
/// still get the problem document. Same status code either way.
/// </summary>
public static class RefusalPage
{
    public static IResult For(HttpContext http, int status, string message) =>
        PlainPage.IsNavigation(http.Request)
            ? Results.Content(Html(status, message), "text/html; charset=utf-8", Encoding.UTF8, status)
            : Results.Problem(message, statusCode: status);

    internal static string Html(int status, string message)
    {
        var title = status switch
        {
            StatusCodes.Status403Forbidden => "No access to this document",
            StatusCodes.Status404NotFound => "Document not found",
            StatusCodes.Status429TooManyRequests => "Too many downloads at once",
            _ => "This link cannot be used",
        };
        return PlainPage.Html(title, message, "/", "Back to the documents");
    }
}
