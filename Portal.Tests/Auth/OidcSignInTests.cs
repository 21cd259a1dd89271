using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Portal.App.Hosting;
using Portal.Data.Audit;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Auth;

/// <summary>
/// Sign-in through a real OpenID Connect provider (oidc-provider from npm): the happy path in Chromium, every
/// tampered response refused and audited, back-channel logout, and the provider rotating its key.
/// </summary>
public sealed class OidcSignInTests : OidcAppTests
{
    private async Task<List<AuditEvent>> EventsAsync(AuditAction action) =>
        (await app.AuditEventsAsync()).Where(e => e.Action == action).ToList();

    private static bool HasSession(HttpClient client) => OidcLogin.HasSession(client);

    /// <summary>From the portal's sign-in page, through the provider's own login form, as a person does.</summary>
    private static async Task SignInAtProviderAsync(IPage page, string login)
    {
        await page.GetByTestId("signin-oidc").ClickAsync();
        await page.Locator("input[name=login]").FillAsync(login);
        await page.Locator("input[name=password]").FillAsync("any password");
        await page.Locator("button[type=submit]").ClickAsync();
    }

    [ChromiumFact]
    public async Task A_person_signs_in_at_the_provider_gets_the_role_of_their_group_and_signs_out_at_both()
    {
        var (playwright, browser) = await Browser.LaunchAsync();
        try
        {
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { BaseURL = address.ToString() });
            await page.GotoAsync("/");
            await SignInAtProviderAsync(page, "alice");

            await Assertions.Expect(page.GetByTestId("signed-in-user")).ToHaveTextAsync("Alice Admin");
            await Assertions.Expect(page.Locator("[data-interactive=true]")).ToHaveCountAsync(1, new() { Timeout = 15000 });
            // portal-admins → Admin: the Board folder, granted to nobody, is visible to admins only.
            await Assertions.Expect(page.GetByTestId("folder-tree").GetByText("Board", new() { Exact = true })).ToBeVisibleAsync();

            await page.GetByTestId("sign-out").ClickAsync();
            await page.Locator("button[name=logout][value=yes]").ClickAsync(); // the provider asks to confirm
            await Assertions.Expect(page.GetByTestId("signed-out")).ToBeVisibleAsync();

            // Signed out at the provider too: signing in again asks for the login, it does not pass straight through.
            await page.GetByTestId("signin-oidc").ClickAsync();
            await Assertions.Expect(page.Locator("input[name=login]")).ToBeVisibleAsync();

            var signIn = Assert.Single(await EventsAsync(AuditAction.SignIn));
            Assert.Equal(("Alice Admin", "OpenID Connect", "portal-admins,staff"), (signIn.ActorDisplayName, signIn.Reason, signIn.ActorGroups));
            Assert.Equal("alice", signIn.ActorSubject);
            Assert.Contains(await EventsAsync(AuditAction.SignOut), e => e.ActorDisplayName == "Alice Admin" && e.Reason == "Signed out");
        }
        finally
        {
            await browser.DisposeAsync();
            playwright.Dispose();
        }
    }

    [ChromiumFact]
    public async Task Sign_out_reaches_the_provider_even_when_the_page_sees_its_session_end_on_the_way()
    {
        var (playwright, browser) = await Browser.LaunchAsync();
        try
        {
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { BaseURL = address.ToString() });
            await page.GotoAsync("/");
            await SignInAtProviderAsync(page, "alice");
            await Assertions.Expect(page.Locator("[data-interactive=true]")).ToHaveCountAsync(1, new() { Timeout = 15000 });

            // The portal ends the session, but its answer (the way to the provider's logout) reaches the page late, as
            // on a slow network or a busy server. Meanwhile the page, still open, talks to its circuit: it clicks the
            // theme switch every half second (Playwright cannot reach into a page whose navigation is pending, so the
            // page does it itself), and the circuit sees the session end.
            var held = new TaskCompletionSource<IRoute>(TaskCreationOptions.RunContinuationsAsynchronously);
            await page.RouteAsync("**/auth/signout", route => { held.TrySetResult(route); return Task.CompletedTask; });
            await page.EvaluateAsync("""
                setInterval(() => document.querySelector('[data-testid=theme-toggle]')?.click(), 500);
                document.querySelector('[data-testid=sign-out]').click();
                """);
            var signOut = await held.Task.WaitAsync(TimeSpan.FromSeconds(30));
            var answer = await signOut.FetchAsync(new() { MaxRedirects = 0 }); // the portal ends the session now
            Assert.Equal(302, answer.Status);
            await Task.Delay(4000);
            await signOut.FulfillAsync(new() { Response = answer });

            await page.Locator("button[name=logout][value=yes]").ClickAsync(new() { Timeout = 15000 });
            await Assertions.Expect(page.GetByTestId("signed-out")).ToBeVisibleAsync();
            await page.GetByTestId("signin-oidc").ClickAsync();
            await Assertions.Expect(page.Locator("input[name=login]")).ToBeVisibleAsync();
        }
        finally
        {
            await browser.DisposeAsync();
            playwright.Dispose();
        }
    }

    [ChromiumFact]
    public async Task An_open_page_loses_access_within_a_minute_of_a_back_channel_logout()
    {
        var (playwright, browser) = await Browser.LaunchAsync();
        try
        {
            var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = address.ToString() });
            var page = await context.NewPageAsync();
            await page.GotoAsync("/signin");
            await SignInAtProviderAsync(page, "bob");
            await Assertions.Expect(page.Locator("[data-interactive=true]")).ToHaveCountAsync(1, new() { Timeout = 15000 });
            await Assertions.Expect(page.GetByTestId("folder-tree").GetByText("Company", new() { Exact = true })).ToBeVisibleAsync();

            // Bob signs out at the provider in another tab; the provider tells the portal over the back channel.
            var other = await context.NewPageAsync();
            await other.GotoAsync(new Uri(provider.Issuer, "/session/end").ToString());
            await other.Locator("button[name=logout][value=yes]").ClickAsync();

            // The open page's circuit re-checks its session (every 30 s) and sends Bob to sign in.
            await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin"), new() { Timeout = 60000 });
            Assert.Contains(await EventsAsync(AuditAction.SignOut), e => e.Reason == "Back-channel logout from the provider");
        }
        finally
        {
            await browser.DisposeAsync();
            playwright.Dispose();
        }
    }

    public static TheoryData<string, string> Tampering => new()
    {
        { "wrong nonce", "WrongNonce" },
        { "wrong audience", "WrongAudience" },
        { "wrong issuer", "WrongIssuer" },
        { "expired", "Expired" },
        { "bad signature", "BadSignature" },
        { "alg none", "UnsupportedAlgorithm" },
        { "unknown key id", "UnknownKey" },
        { "HS256 with the provider's public key", "BadSignature" },
    };

    [Theory]
    [MemberData(nameof(Tampering))]
    public async Task A_tampered_id_token_is_refused_and_audited(string tampering, string expectedReason)
    {
        provider.TamperIdToken = (header, payload) =>
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            switch (tampering)
            {
                case "wrong nonce": payload["nonce"] = "not-the-nonce-we-sent"; break;
                case "wrong audience": payload["aud"] = "another-client"; break;
                case "wrong issuer": payload["iss"] = "http://127.0.0.1:1"; break;
                case "expired": payload["exp"] = now - 3600; payload["iat"] = now - 7200; break;
                case "bad signature":
                    var signed = provider.Sign(header, payload);
                    // The signature's first character changed: it carries six whole bits, so the token stays canonical
                    // base64url. (Its last four replaced by "BBBB", as before, left padding bits set whenever the
                    // fourth-last was 'A', one run in 64: refused as Malformed before the signature was checked.)
                    var at = signed.LastIndexOf('.') + 1;
                    return signed[..at] + (signed[at] == 'A' ? 'B' : 'A') + signed[(at + 1)..];
                case "alg none":
                    header["alg"] = "none";
                    return $"{OidcProvider.B64(header.ToJsonString())}.{OidcProvider.B64(payload.ToJsonString())}.";
                case "unknown key id":
                    header["kid"] = "not-published";
                    return provider.Sign(header, payload, RSA.Create(2048));
                case "HS256 with the provider's public key":
                    // The classic forgery: the public key (which anyone can read from the JWKS) used as an HMAC secret.
                    header["alg"] = "HS256";
                    var input = $"{OidcProvider.B64(header.ToJsonString())}.{OidcProvider.B64(payload.ToJsonString())}";
                    var secret = System.Text.Encoding.ASCII.GetBytes(provider.SigningKey.ExportSubjectPublicKeyInfoPem());
                    return $"{input}.{OidcProvider.Base64Url(HMACSHA256.HashData(secret, System.Text.Encoding.ASCII.GetBytes(input)))}";
            }
            return provider.Sign(header, payload);
        };
        using var client = OidcLogin.NewClient(address);

        var callback = await client.GetAsync(await OidcLogin.ToCallbackAsync(client, "bob"));

        await AssertRefusedAsync(client, callback, expectedReason);
    }

    [Fact]
    public async Task A_wrong_state_is_refused_and_audited()
    {
        using var client = OidcLogin.NewClient(address);
        var url = (await OidcLogin.ToCallbackAsync(client, "bob")).ToString();
        var forged = System.Text.RegularExpressions.Regex.Replace(url, "state=[^&]+", "state=forged-state");

        await AssertRefusedAsync(client, await client.GetAsync(forged), "Unknown state");
    }

    [Fact]
    public async Task The_provider_s_access_denied_is_refused_and_audited_in_our_words_not_its_own()
    {
        using var client = OidcLogin.NewClient(address);
        // The state of a sign-in this browser started (the handler pushes the request to the provider, so the state is
        // read from the way back).
        var state = System.Web.HttpUtility.ParseQueryString((await OidcLogin.ToCallbackAsync(client, "bob")).Query)["state"];

        // What the provider sends back when the person declines (its free text is the provider's, and may say anything).
        var callback = await client.GetAsync($"/signin-oidc?error=access_denied&error_description={Uri.EscapeDataString("<b>user said no</b> eyJhbGciOi")}&state={Uri.EscapeDataString(state!)}");

        await AssertRefusedAsync(client, callback, "The provider refused the sign-in (access_denied).");
        Assert.DoesNotContain("user said no", Assert.Single(await EventsAsync(AuditAction.SignInFailed)).Reason);
    }

    [Theory]
    [InlineData("https://evil.example/")]
    [InlineData("//evil.example/")]
    [InlineData("/\\evil.example/")]
    public async Task An_off_site_return_url_is_refused_and_audited_before_anything_else(string returnUrl)
    {
        using var client = OidcLogin.NewClient(address);
        var response = await client.GetAsync("/auth/login?returnUrl=" + Uri.EscapeDataString(returnUrl));
        await AssertRefusedAsync(client, response, "The returnUrl is not a local path.");
    }

    [Fact]
    public async Task A_return_url_with_characters_beyond_ascii_signs_in_and_lands_there()
    {
        using var client = OidcLogin.NewClient(address);
        var response = await OidcLogin.SignInAsync(client, "bob", "/é?x=ü");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/%C3%A9?x=%C3%BC", response.Headers.Location?.OriginalString);
        Assert.True(HasSession(client));
        Assert.Single(await EventsAsync(AuditAction.SignIn));
        Assert.Empty(await EventsAsync(AuditAction.SignInFailed));
    }

    [Fact]
    public async Task A_cookie_re_issued_with_the_app_s_keys_and_an_added_admin_role_does_not_make_an_admin()
    {
        using var client = OidcLogin.NewClient(address);
        await OidcLogin.SignInAsync(client, "bob"); // staff only
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/api/users")).StatusCode);

        // Whoever holds the app's data-protection keys can write any cookie: unprotect bob's, add Admin, protect it again.
        var protector = app.Services.GetRequiredService<Microsoft.AspNetCore.DataProtection.IDataProtectionProvider>()
            .CreateProtector("Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationMiddleware", "Cookies", "v2");
        var format = new Microsoft.AspNetCore.Authentication.TicketDataFormat(protector);
        var ticket = format.Unprotect(OidcLogin.SessionCookie(client))!;
        var identity = (System.Security.Claims.ClaimsIdentity)ticket.Principal.Identity!;
        identity.AddClaim(new System.Security.Claims.Claim(identity.RoleClaimType, Portal.App.Auth.PortalRoles.Admin));
        Assert.True(ticket.Principal.IsInRole(Portal.App.Auth.PortalRoles.Admin));
        OidcLogin.SetSessionCookie(client, format.Protect(ticket));

        // The forged cookie is a valid cookie of a live session (the home page opens), but the roles come from the server.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/api/users")).StatusCode);
    }

    [Fact]
    public async Task Anonymous_sign_in_failures_are_recorded_up_to_a_limit_a_minute()
    {
        using var client = OidcLogin.NewClient(address);
        for (var i = 0; i < 40; i++)
            Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync($"/signin-oidc?code=c{i}&state=forged-{i}")).StatusCode);

        var failures = await EventsAsync(AuditAction.SignInFailed);
        Assert.Equal(Portal.App.Auth.SignInFailures.PerAddress + 1, failures.Count);
        Assert.Contains("further ones this minute are in the log only", failures[^1].Reason);
        Assert.False(HasSession(client));
    }

    [Fact]
    public async Task A_replayed_code_is_refused_and_audited()
    {
        using var first = OidcLogin.NewClient(address);
        var callback = await OidcLogin.ToCallbackAsync(first, "bob");
        Assert.Equal(HttpStatusCode.Redirect, (await first.GetAsync(callback)).StatusCode);
        Assert.True(HasSession(first));

        // An attacker who saw the callback URL replays it from their own browser.
        using var attacker = OidcLogin.NewClient(address);
        await AssertRefusedAsync(attacker, await attacker.GetAsync(callback), "Correlation failed", earlierSignIns: 1);
    }

    [Fact]
    public async Task A_person_whose_groups_give_no_portal_role_is_refused_and_audited()
    {
        using var client = OidcLogin.NewClient(address);
        var callback = await client.GetAsync(await OidcLogin.ToCallbackAsync(client, "dave"));
        await AssertRefusedAsync(client, callback, "None of the person's groups gives a portal role (groups: visitors)");
    }

    private async Task AssertRefusedAsync(HttpClient client, HttpResponseMessage callback, string expectedReason, int earlierSignIns = 0)
    {
        Assert.Equal(HttpStatusCode.Redirect, callback.StatusCode);
        Assert.Equal("/signin?error=1", callback.Headers.Location?.OriginalString);
        Assert.False(HasSession(client), "no session cookie after a refused sign-in");
        var home = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, home.StatusCode);
        Assert.StartsWith("/signin", home.Headers.Location?.PathAndQuery);

        var failure = Assert.Single(await EventsAsync(AuditAction.SignInFailed));
        Assert.Equal(AuditOutcome.Denied, failure.Outcome);
        Assert.Contains(expectedReason, failure.Reason);
        Assert.DoesNotContain("eyJ", failure.Reason); // never a token in the audit log
        Assert.Equal(earlierSignIns, (await EventsAsync(AuditAction.SignIn)).Count);
        Assert.Equal(earlierSignIns, await app.WithDbAsync(db => Task.FromResult(db.Sessions.Count()))); // no session record
    }

    [Fact]
    public async Task Without_userinfo_a_claim_missing_from_the_id_token_stays_missing()
    {
        provider.TamperIdToken = (header, payload) => { payload.Remove("email"); return provider.Sign(header, payload); };
        using var client = OidcLogin.NewClient(address);
        await OidcLogin.SignInAsync(client, "bob");
        Assert.True(HasSession(client));
        Assert.Null(await app.WithDbAsync(db => Task.FromResult(db.Users.Single(u => u.Subject == "bob").Email)));
    }

    [Fact]
    public async Task With_userinfo_configured_the_claims_missing_from_the_id_token_come_from_userinfo()
    {
        // The provider registered one redirect URI (the first app's), so the replacement answers on that same address;
        // OidcApp disposes it (and the database) at the end.
        var withUserinfo = await oidc.RestartAppAsync(new Dictionary<string, string?> { ["Oidc:UseUserinfo"] = "true" });
        provider.TamperIdToken = (header, payload) => { payload.Remove("email"); return provider.Sign(header, payload); };

        using var client = OidcLogin.NewClient(address);
        await OidcLogin.SignInAsync(client, "bob");

        Assert.True(HasSession(client));
        Assert.Equal("bob@example.test", await withUserinfo.WithDbAsync(db => Task.FromResult(db.Users.Single(u => u.Subject == "bob").Email)));
    }

    [Fact]
    public async Task Back_channel_logout_ends_the_session_and_the_old_cookie_is_sent_to_sign_in()
    {
        var scenario = await Scenario.CreateAsync(app.Services);
        using var client = OidcLogin.NewClient(address);
        await OidcLogin.SignInAsync(client, "bob");
        // bob is in "staff", which Scenario grants Download on Shared.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/d/{scenario.SharedDocumentId}")).StatusCode);

        await OidcLogin.LogOutAtProviderAsync(client, provider.Issuer);

        // The provider calls the app's back-channel endpoint; once it has, the same cookie opens nothing.
        HttpResponseMessage after = null!;
        for (var i = 0; i < 100; i++)
        {
            after = await client.GetAsync($"/d/{scenario.SharedDocumentId}");
            if (after.StatusCode == HttpStatusCode.Redirect) break;
            await Task.Delay(100);
        }
        Assert.True(after.StatusCode == HttpStatusCode.Redirect,
            $"still {(int)after.StatusCode}; audit: {string.Join(" | ", (await app.AuditEventsAsync()).Select(e => $"{e.Action} {e.Outcome} {e.Reason}"))}; provider: {provider.Output}");
        Assert.StartsWith("/signin", after.Headers.Location?.PathAndQuery);
        var signOut = Assert.Single(await EventsAsync(AuditAction.SignOut));
        Assert.Equal(("Back-channel logout from the provider", "Bob Staff", "staff"), (signOut.Reason, signOut.ActorDisplayName, signOut.ActorGroups));
    }

    private string LogoutToken(string sid, Action<JsonObject>? change = null)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var payload = new JsonObject
        {
            ["iss"] = provider.Issuer.ToString().TrimEnd('/'), ["aud"] = OidcProvider.ClientId, ["iat"] = now, ["exp"] = now + 120,
            ["jti"] = Guid.NewGuid().ToString(), ["sid"] = sid,
            ["events"] = new JsonObject { ["http://schemas.openid.net/event/backchannel-logout"] = new JsonObject() },
        };
        change?.Invoke(payload);
        return provider.Sign(new JsonObject { ["alg"] = "RS256", ["kid"] = provider.SigningKid, ["typ"] = "logout+jwt" }, payload);
    }

    private async Task<HttpResponseMessage> PostLogoutTokenAsync(string token)
    {
        using var anonymous = new HttpClient { BaseAddress = address };
        return await anonymous.PostAsync("/auth/backchannel-logout", new FormUrlEncodedContent(new Dictionary<string, string> { ["logout_token"] = token }));
    }

    [Fact]
    public async Task A_replayed_logout_token_is_refused_and_so_is_one_without_exp()
    {
        using var client = OidcLogin.NewClient(address);
        await OidcLogin.SignInAsync(client, "bob");
        var sid = await app.WithDbAsync(db => Task.FromResult(db.Sessions.Single().ProviderSessionId!));

        // Without exp the token could be replayed forever: refused, and the session goes on.
        var noExp = await PostLogoutTokenAsync(LogoutToken(sid, p => p.Remove("exp")));
        Assert.Equal(HttpStatusCode.BadRequest, noExp.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/")).StatusCode);

        var token = LogoutToken(sid);
        Assert.Equal(HttpStatusCode.OK, (await PostLogoutTokenAsync(token)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync("/")).StatusCode);

        // The same token again (captured on its way): refused, remembered in the database until it expires.
        Assert.Equal(HttpStatusCode.BadRequest, (await PostLogoutTokenAsync(token)).StatusCode);
        Assert.Equal(1, await app.WithDbAsync(db => Task.FromResult(db.LogoutTokenUses.Count())));

        var signOuts = await EventsAsync(AuditAction.SignOut);
        Assert.Equal(3, signOuts.Count);
        Assert.Contains(signOuts, e => e.Outcome == AuditOutcome.Denied && e.Reason!.Contains("NoExpiry"));
        Assert.Contains(signOuts, e => e.Outcome == AuditOutcome.Allowed && e.Reason == "Back-channel logout from the provider");
        Assert.Contains(signOuts, e => e.Outcome == AuditOutcome.Denied && e.Reason!.Contains("Replayed"));
    }

    [Theory]
    [InlineData("nonce")]
    [InlineData("no event")]
    [InlineData("stale iat")]
    [InlineData("typ")]
    public async Task A_logout_token_that_breaks_the_spec_s_rules_is_refused(string broken)
    {
        using var client = OidcLogin.NewClient(address);
        await OidcLogin.SignInAsync(client, "bob");
        var sid = await app.WithDbAsync(db => Task.FromResult(db.Sessions.Single().ProviderSessionId!));
        var token = broken == "typ"
            ? provider.Sign(new JsonObject { ["alg"] = "RS256", ["kid"] = provider.SigningKid, ["typ"] = "JWT+id" }, OidcProvider.Decode(LogoutToken(sid)).Payload)
            : LogoutToken(sid, p =>
            {
                switch (broken)
                {
                    case "nonce": p["nonce"] = "n"; break;
                    case "no event": p["events"] = new JsonObject(); break;
                    case "stale iat": p["iat"] = DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeSeconds(); break;
                }
            });

        Assert.Equal(HttpStatusCode.BadRequest, (await PostLogoutTokenAsync(token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/")).StatusCode);
        Assert.Equal(AuditOutcome.Denied, Assert.Single(await EventsAsync(AuditAction.SignOut)).Outcome);
    }

    [Fact]
    public async Task A_logout_token_that_does_not_verify_is_refused_and_audited()
    {
        using var anonymous = new HttpClient { BaseAddress = address };
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var forged = provider.Sign(new JsonObject { ["alg"] = "RS256", ["kid"] = provider.SigningKid },
            new JsonObject
            {
                ["iss"] = provider.Issuer.ToString().TrimEnd('/'), ["aud"] = OidcProvider.ClientId, ["iat"] = now, ["exp"] = now + 60, ["jti"] = "x",
                ["sub"] = "bob", ["events"] = new JsonObject { ["http://schemas.openid.net/event/backchannel-logout"] = new JsonObject() },
            }, RSA.Create(2048));

        var response = await anonymous.PostAsync("/auth/backchannel-logout", new FormUrlEncodedContent(new Dictionary<string, string> { ["logout_token"] = forged }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var refused = Assert.Single(await EventsAsync(AuditAction.SignOut));
        Assert.Equal(AuditOutcome.Denied, refused.Outcome);
        Assert.Contains("BadSignature", refused.Reason);
    }

    [Fact]
    public async Task Sign_in_still_works_after_the_provider_rotates_its_signing_key()
    {
        using (var before = OidcLogin.NewClient(address))
        {
            await OidcLogin.SignInAsync(before, "bob");
            Assert.True(HasSession(before));
        }

        await provider.RotateKeyAsync();

        using var after = OidcLogin.NewClient(address);
        var response = await OidcLogin.SignInAsync(after, "bob");
        Assert.Equal("/", response.Headers.Location?.OriginalString);
        Assert.True(HasSession(after), "signed in with a token signed by the new key");
        Assert.Equal(2, (await EventsAsync(AuditAction.SignIn)).Count);
    }

    [Fact]
    public async Task While_the_provider_is_down_sign_in_says_so_and_works_again_once_it_is_back()
    {
        await provider.StopAsync();
        using var client = OidcLogin.NewClient(address);

        var response = await client.GetAsync("/auth/login?returnUrl=%2Ffolders%2F1");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var signInPage = response.Headers.Location!.OriginalString;
        Assert.Equal("/signin?error=provider&ReturnUrl=%2Ffolders%2F1", signInPage);
        var html = await client.GetStringAsync(signInPage);
        Assert.Contains("sign-in service cannot be reached", html);
        Assert.Contains("returnUrl=%2Ffolders%2F1", html); // the button tries again for the same page
        Assert.DoesNotContain(provider.Issuer.Authority, html); // the provider's address is for the operators' log
        Assert.False(HasSession(client));

        // A failed discovery is not remembered: the next try reaches the provider.
        await provider.StartAgainAsync();
        var signedIn = await OidcLogin.SignInAsync(client, "bob");
        Assert.Equal("/", signedIn.Headers.Location?.OriginalString);
        Assert.True(HasSession(client));
    }

    [Fact]
    public async Task The_development_sign_in_does_not_exist_when_a_provider_is_configured()
    {
        using var client = OidcLogin.NewClient(address);
        var response = await client.PostAsync("/auth/dev-signin", new FormUrlEncodedContent(new Dictionary<string, string> { ["user"] = "admin" }));
        Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed, $"{(int)response.StatusCode}");
        Assert.False(HasSession(client));
        Assert.DoesNotContain("signin-admin", await client.GetStringAsync("/signin"));
    }
}
