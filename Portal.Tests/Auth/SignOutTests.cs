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
        Assert.Single((await host.AuditEventsAsync()).Where(e => e.Action == AuditAction.SignOut));
    }
}
