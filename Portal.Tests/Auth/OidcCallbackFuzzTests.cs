using System.Net;
using System.Text;
using System.Web;
using Portal.App.Hosting;
using Portal.Data.Audit;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Auth;

/// <summary>
/// Random and hostile sign-in callbacks and back-channel logout requests against the app signed in through the real
/// OIDC provider: never a 5xx, never a stack trace, never an injected header, never a session. (bench/reliability.sh
/// fuzzes every other endpoint; it runs without a provider.)
/// </summary>
public sealed class OidcCallbackFuzzTests : OidcAppTests
{
    private readonly Random random = new(20261121);

    private static readonly string[] Hostile =
    [
        "", " ", "\r\nX-Injected: yes", "%0d%0aX-Injected:%20yes", "\0", "../../etc/passwd", "<script>alert(1)</script>",
        "'; DROP TABLE \"Users\"; --", "\"", "\\", "%", "%%32%65", "😀", "ünïcödé", new string('A', 5000), "null", "undefined",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "a.b.c", "=", "&", "#", "?", "http://evil.example/", "-1", "0", "1e309",
    ];

    private string AnyValue() => random.Next(3) switch
    {
        0 => Hostile[random.Next(Hostile.Length)],
        1 => Convert.ToBase64String(Enumerable.Range(0, random.Next(1, 200)).Select(_ => (byte)random.Next(256)).ToArray()),
        _ => new string(Enumerable.Range(0, random.Next(0, 60)).Select(_ => (char)random.Next(1, 0x3000)).ToArray()),
    };

    private static async Task AssertHandledAsync(HttpResponseMessage response, string input)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode < 500, $"{(int)response.StatusCode} for {input}: {body[..Math.Min(body.Length, 300)]}");
        Assert.DoesNotContain("   at ", body);
        Assert.DoesNotContain("Exception", body);
        Assert.False(response.Headers.Contains("X-Injected"), $"header injected by {input}");
        if (response.Headers.Location is { } location)
            Assert.False(location.IsAbsoluteUri && location.Host.Contains("evil"), $"redirected off-site by {input}");
    }

    [Fact]
    public async Task Random_and_hostile_callbacks_answer_without_error_and_never_sign_anyone_in()
    {
        var tried = 0;
        // Callbacks out of the blue (no sign-in started): random code, state, iss, error and extra parameters.
        using (var client = OidcLogin.NewClient(address))
        {
            for (var i = 0; i < 300; i++)
            {
                var query = HttpUtility.ParseQueryString("");
                foreach (var name in new[] { "code", "state", "iss", "error", "error_description", "session_state", AnyValue() })
                    if (random.Next(4) != 0) query[name] = AnyValue();
                var input = "/signin-oidc?" + query;
                await AssertHandledAsync(await client.GetAsync(input), input);
                tried++;
            }
            Assert.False(OidcLogin.HasSession(client));
        }

        // Real sign-ins started at the provider whose callback is then tampered with: one parameter replaced,
        // dropped or doubled. The browser's correlation cookie is there, so the handler gets as far as it can.
        for (var i = 0; i < 20; i++)
        {
            using var client = OidcLogin.NewClient(address);
            var callback = await OidcLogin.ToCallbackAsync(client, "mallory");
            var query = HttpUtility.ParseQueryString(callback.Query);
            var name = new[] { "code", "state", "iss" }[i % 3];
            switch (random.Next(3))
            {
                case 0: query[name] = AnyValue(); break;
                case 1: query.Remove(name); break;
                default: query.Add(name, AnyValue()); break;
            }
            var input = $"/signin-oidc?{query}";
            await AssertHandledAsync(await client.GetAsync(input), input);
            Assert.False(OidcLogin.HasSession(client), $"a session from {input}");
            tried++;
        }

        // Back-channel logout with random bodies and content types.
        using (var client = OidcLogin.NewClient(address))
        {
            for (var i = 0; i < 100; i++)
            {
                var body = random.Next(2) == 0
                    ? new FormUrlEncodedContent(new Dictionary<string, string> { [random.Next(3) == 0 ? AnyValue() : "logout_token"] = AnyValue() })
                    : (HttpContent)new StringContent(AnyValue(), Encoding.UTF8, random.Next(2) == 0 ? "application/json" : "text/plain");
                await AssertHandledAsync(await client.PostAsync("/auth/backchannel-logout", body), $"back-channel logout #{i}");
                tried++;
            }
        }

        Assert.Equal(420, tried);
        Assert.DoesNotContain(await app.AuditEventsAsync(), e => e.Action == AuditAction.SignIn && e.Outcome == AuditOutcome.Allowed);
    }
}
