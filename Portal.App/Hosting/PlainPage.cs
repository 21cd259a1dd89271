using System.Text.Encodings.Web;

namespace Portal.App.Hosting;

/// <summary>
/// A short self-contained HTML page for a person whose browser navigated somewhere that cannot answer normally (a
/// refused download link, the database down): a heading, one sentence, one link. Scripts and API clients keep getting
/// problem documents; only a browser's navigation (Accept: text/html) gets this.
/// </summary>
public static class PlainPage
{
    /// <summary>A browser's navigation: it asks for HTML by name (fetch and API clients ask for JSON or anything).</summary>
    public static bool IsNavigation(HttpRequest request) =>
        request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

    /// <param name="linkHref">The app's own link (never from the request): "/" or "" (this same address again).</param>
    /// <param name="action">
    /// An optional main action shown first, as a button (a link styled as one): a relative address on this origin built
    /// by the app from validated parts (a route's id, a parsed number, each segment escaped). Encoded here all the same.
    /// </param>
    public static string Html(string title, string message, string linkHref, string linkText, (string Href, string Text)? action = null)
    {
        var html = HtmlEncoder.Default;
        var button = action is { } a
            ? $"""<p><a class="button" href="{html.Encode(a.Href)}" data-testid="plain-page-action">{html.Encode(a.Text)}</a></p>"""
            : "";
        // No script and no stylesheet to fetch (the database or the app's assets may be what is failing); the texts are
        // the app's own, encoded all the same. The button's white on #4340d2 is 7.2:1, its focus ring the text colour.
        return $$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{html.Encode(title)}} · Portal</title>
            <style>body{font-family:Roboto,system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#212121;overflow-wrap:anywhere}h1{font-size:1.5rem;font-weight:500}a{color:#4340d2}a.button{display:inline-block;min-height:1.5rem;padding:.6rem 1.25rem;border-radius:4px;background:#4340d2;color:#fff;text-decoration:none;font-weight:500}a:focus-visible{outline:3px solid #212121;outline-offset:2px}</style>
            </head><body>
            <h1>{{html.Encode(title)}}</h1>
            <p data-testid="plain-page-message">{{html.Encode(message)}}</p>
            {{button}}
            <p><a href="{{html.Encode(linkHref)}}" data-testid="plain-page-link">{{html.Encode(linkText)}}</a></p>
            </body></html>
            """;
    }
}
