using System.Net;
using System.Text.RegularExpressions;
using Portal.Data.Audit;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Auth;

/// <summary>Signing out needs the page's antiforgery token; then the session is over, on this cookie and any copy.</summary>
public sealed class SignOutTests
{
    [Fact]
    public async Task Sign_out_without_the_token_is_refused_and_with_it_ends_the_session()
    {
        await using var database = new SqliteTestDatabase();
        await using var host = new PortalHost(database);
        var client = host.CreateBrowserLikeClient();
        await SignIn.AsDemoUserAsync(client, "staff");
        var page = await client.GetStringAsync("/");

        var forged = await client.PostAsync("/auth/signout", new FormUrlEncodedContent([]));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/")).StatusCode); // still signed in

        var token = SignIn.TokenOf(page);
        var signOut = await client.PostAsync("/auth/signout", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));
        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        Assert.Equal("/signin?signedOut=1", signOut.Headers.Location?.OriginalString);
        var after = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.Single(await host.AuditEventsAsync(), e => e.Action == AuditAction.SignOut);
    }
}

/// <summary>The session cookie: HttpOnly and SameSite=Lax always; Secure everywhere but on localhost.</summary>
public sealed class SessionCookieTests
{
    [Theory]
    [InlineData("localhost", false)]
    [InlineData("127.0.0.1", false)]
    [InlineData("portal.example.org", true)]
    public async Task The_session_cookie_is_secure_outside_localhost(string host, bool secure)
    {
        await using var database = new SqliteTestDatabase();
        await using var app = new PortalHost(database);
        var client = app.CreateBrowserLikeClient();
        client.DefaultRequestHeaders.Host = host;
        var page = await client.GetStringAsync("/signin");

        var response = await client.PostAsync("/auth/dev-signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["user"] = "staff", ["returnUrl"] = "/", ["__RequestVerificationToken"] = SignIn.TokenOf(page),
        }));

        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("portal.session=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(secure, cookie.Contains("secure;", StringComparison.OrdinalIgnoreCase) || cookie.EndsWith("secure", StringComparison.OrdinalIgnoreCase));
    }
}
