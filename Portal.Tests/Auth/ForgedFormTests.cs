using System.Net;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Auth;

/// <summary>Forms posted without a valid antiforgery token (found by bench/reliability.sh's fuzzing: they answered 500).</summary>
public sealed class ForgedFormTests
{
    [Theory]
    [InlineData(null)]                 // no token, no antiforgery cookie: a cross-site post
    [InlineData("CfDJ8forged")]        // a forged token
    [InlineData("a\0b<script>")]       // garbage the form reader itself refuses
    public async Task A_sign_in_form_without_a_valid_token_is_refused_with_400_and_no_details(string? token)
    {
        await using var database = new SqliteTestDatabase();
        await using var app = new PortalHost(database);
        var client = app.CreateBrowserLikeClient();
        var fields = new Dictionary<string, string> { ["user"] = "admin", ["returnUrl"] = "/" };
        if (token is not null)
        {
            await client.GetStringAsync("/signin"); // the antiforgery cookie, as a browser would hold it
            fields["__RequestVerificationToken"] = token;
        }

        var response = await client.PostAsync("/auth/dev-signin", new FormUrlEncodedContent(fields));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("Exception", body);
        Assert.DoesNotContain(" at ", body);
        Assert.False(response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("portal.session=", StringComparison.Ordinal)));
    }
}
