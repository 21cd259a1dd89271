using System.Net;
using System.Text.RegularExpressions;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// The sign-in round trip without a browser: the app's /auth/login, the provider's login form, and back to the
/// app's callback URL, which is returned unrequested so a test can use it, change it or replay it.
/// </summary>
public static partial class OidcLogin
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<HttpClient, CookieContainer> Jars = new();

    public static HttpClient NewClient(Uri app)
    {
        var cookies = new CookieContainer();
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = cookies }) { BaseAddress = app };
        Jars.Add(client, cookies);
        return client;
    }

    /// <summary>Whether the client holds the portal's session cookie.</summary>
    public static bool HasSession(HttpClient client) =>
        Jars.TryGetValue(client, out var jar) && jar.GetAllCookies().Any(c => c.Name == "portal.session" && !c.Expired);

    public static async Task<Uri> ToCallbackAsync(HttpClient client, string login, string returnUrl = "/")
    {
        var app = client.BaseAddress!;
        var response = await client.GetAsync("/auth/login?returnUrl=" + Uri.EscapeDataString(returnUrl));
        for (var step = 0; step < 15; step++)
        {
            if (response.StatusCode is HttpStatusCode.OK && LoginForm().Match(await response.Content.ReadAsStringAsync()) is { Success: true } form)
            {
                var fields = Hidden().Matches(form.Value).ToDictionary(m => m.Groups["name"].Value, m => WebUtility.HtmlDecode(m.Groups["value"].Value));
                fields["login"] = login;
                fields["password"] = "any password";
                response = await client.PostAsync(new Uri(response.RequestMessage!.RequestUri!, WebUtility.HtmlDecode(form.Groups["action"].Value)), new FormUrlEncodedContent(fields));
                continue;
            }
            var location = response.Headers.Location ?? throw new InvalidOperationException(
                $"The sign-in stopped at {(int)response.StatusCode} {response.RequestMessage?.RequestUri}: {await response.Content.ReadAsStringAsync()}");
            var next = location.IsAbsoluteUri ? location : new Uri(response.RequestMessage!.RequestUri!, location);
            if (next.Authority == app.Authority)
            {
                // Only the provider's answer counts: a way back without it (the sign-in page with an error) is a failure here.
                if (next.AbsolutePath == "/signin-oidc") return next;
                throw new InvalidOperationException($"The sign-in came back to the portal without the provider's answer: {next}");
            }
            response = await client.GetAsync(next);
        }
        throw new InvalidOperationException("The sign-in did not come back to the portal.");
    }

    /// <summary>Signs in all the way (the callback requested too); the client then holds the session cookie.</summary>
    public static async Task<HttpResponseMessage> SignInAsync(HttpClient client, string login, string returnUrl = "/") =>
        await client.GetAsync(await ToCallbackAsync(client, login, returnUrl));

    /// <summary>The session cookie's value (joined again if the cookie was split into chunks).</summary>
    public static string SessionCookie(HttpClient client)
    {
        var cookies = Jars.TryGetValue(client, out var jar) ? jar.GetAllCookies().Where(c => !c.Expired).ToDictionary(c => c.Name, c => c.Value) : [];
        var value = cookies["portal.session"];
        return value.StartsWith("chunks-")
            ? string.Concat(Enumerable.Range(1, int.Parse(value["chunks-".Length..])).Select(i => cookies[$"portal.sessionC{i}"]))
            : value;
    }

    /// <summary>Replaces the session cookie (one cookie, not chunked) with <paramref name="value"/>.</summary>
    public static void SetSessionCookie(HttpClient client, string value)
    {
        var jar = Jars.TryGetValue(client, out var j) ? j : throw new InvalidOperationException("Not a client of OidcLogin.");
        foreach (var cookie in jar.GetAllCookies().Where(c => c.Name.StartsWith("portal.session"))) cookie.Expired = true;
        jar.Add(client.BaseAddress!, new Cookie("portal.session", value, "/"));
    }

    /// <summary>Ends the person's session at the provider (its own logout page), as if they signed out elsewhere.</summary>
    public static async Task LogOutAtProviderAsync(HttpClient client, Uri issuer)
    {
        var page = await client.GetAsync(new Uri(issuer, "/session/end"));
        var html = await page.Content.ReadAsStringAsync();
        var form = AnyForm().Match(html);
        if (!form.Success) throw new InvalidOperationException($"No logout form at the provider: {html}");
        var fields = Hidden().Matches(html).ToDictionary(m => m.Groups["name"].Value, m => WebUtility.HtmlDecode(m.Groups["value"].Value));
        fields["logout"] = "yes";
        var done = await client.PostAsync(new Uri(issuer, WebUtility.HtmlDecode(form.Groups["action"].Value)), new FormUrlEncodedContent(fields));
        if ((int)done.StatusCode >= 400) throw new InvalidOperationException($"Logout at the provider failed: {(int)done.StatusCode}");
    }

    [GeneratedRegex("<form[^>]*action=\"(?<action>[^\"]*/interaction/[^\"]*)\"[^>]*>(?:(?!</form>).)*name=\"password\".*?</form>", RegexOptions.Singleline)]
    private static partial Regex LoginForm();

    [GeneratedRegex("<form[^>]*action=\"(?<action>[^\"]+)\"", RegexOptions.Singleline)]
    private static partial Regex AnyForm();

    [GeneratedRegex("<input[^>]*type=\"hidden\"[^>]*name=\"(?<name>[^\"]+)\"[^>]*value=\"(?<value>[^\"]*)\"", RegexOptions.Singleline)]
    private static partial Regex Hidden();
}
