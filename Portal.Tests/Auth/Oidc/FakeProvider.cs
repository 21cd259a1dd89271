using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Portal.App.Auth.Oidc;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Auth.Oidc;

/// <summary>
/// Serves a provider's discovery document and JWKS from memory and counts the requests, with the clock, the
/// discovery and the validator under test wired to it. One per test.
/// </summary>
public sealed class FakeProvider : HttpMessageHandler
{
    public const string Authority = "https://idp.example.test/realms/portal";
    public const string JwksPath = "/realms/portal/protocol/openid-connect/certs";
    public const string ClientId = "portal-web";
    public const string Nonce = "n-0S6_WzA2Mj";
    public static readonly DateTimeOffset Start = new(2026, 11, 21, 9, 0, 0, TimeSpan.Zero);

    private int _discoveryRequests;
    private int _jwksRequests;

    public FakeProvider(string authority = Authority)
    {
        Discovery = new OidcDiscovery(new HttpClient(this), authority, Clock, Log);
        Validator = new OidcTokenValidator(Discovery, Clock);
        DiscoveryDocument = new JsonObject
        {
            ["issuer"] = Authority,
            ["authorization_endpoint"] = Authority + "/protocol/openid-connect/auth",
            ["token_endpoint"] = Authority + "/protocol/openid-connect/token",
            ["userinfo_endpoint"] = Authority + "/protocol/openid-connect/userinfo",
            ["jwks_uri"] = "https://idp.example.test" + JwksPath,
            ["end_session_endpoint"] = Authority + "/protocol/openid-connect/logout",
            ["id_token_signing_alg_values_supported"] = new JsonArray("RS256", "PS256", "ES256"),
        };
    }

    public FakeClock Clock { get; } = new(Start);
    public ListLogger<OidcDiscovery> Log { get; } = new();
    public OidcDiscovery Discovery { get; }
    public OidcTokenValidator Validator { get; }

    /// <summary>What /.well-known/openid-configuration answers; tests edit it.</summary>
    public JsonObject DiscoveryDocument { get; set; }

    /// <summary>The keys the JWKS publishes; tests replace them to rotate.</summary>
    public List<JsonObject> Jwks { get; set; } = [TestKey.Rsa.ToJwk(), TestKey.Ec.ToJwk()];

    /// <summary>When set, the JWKS body served instead of <see cref="Jwks"/>.</summary>
    public string? RawJwks { get; set; }

    /// <summary>When set, every request answers this status.</summary>
    public HttpStatusCode? FailWith { get; set; }

    public int DiscoveryRequests => Volatile.Read(ref _discoveryRequests);
    public int JwksRequests => Volatile.Read(ref _jwksRequests);
    public int Requests => DiscoveryRequests + JwksRequests;

    /// <summary>Held before answering, when a test wants requests to overlap.</summary>
    public TaskCompletionSource? Gate { get; set; }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var path = request.RequestUri!.AbsolutePath;
        string body;
        if (path == "/realms/portal/.well-known/openid-configuration")
        {
            Interlocked.Increment(ref _discoveryRequests);
            body = DiscoveryDocument.ToJsonString();
        }
        else if (path == JwksPath)
        {
            Interlocked.Increment(ref _jwksRequests);
            body = RawJwks ?? new JsonObject { ["keys"] = new JsonArray([.. Jwks.Select(k => k.DeepClone())]) }.ToJsonString();
        }
        else return new HttpResponseMessage(HttpStatusCode.NotFound);

        if (Gate is { } gate) await gate.Task.WaitAsync(ct);
        if (FailWith is { } status) return new HttpResponseMessage(status);
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
    }

    /// <summary>The claims of a good ID token, issued now.</summary>
    public JsonObject IdTokenClaims() => new()
    {
        ["iss"] = Authority,
        ["sub"] = "248289761001",
        ["aud"] = ClientId,
        ["nonce"] = Nonce,
        ["iat"] = Clock.GetUtcNow().ToUnixTimeSeconds(),
        ["exp"] = Clock.GetUtcNow().AddMinutes(5).ToUnixTimeSeconds(),
        ["sid"] = "08a5019c-17e1-4977-8f42-65a12843ea02",
        ["name"] = "Jane Doe",
        ["email"] = "jane@example.test",
        ["groups"] = new JsonArray("staff", "finance"),
    };

    /// <summary>The claims of a good logout token (Back-Channel Logout 1.0 §2.4), issued now.</summary>
    public JsonObject LogoutTokenClaims() => new()
    {
        ["iss"] = Authority,
        ["sub"] = "248289761001",
        ["aud"] = ClientId,
        ["iat"] = Clock.GetUtcNow().ToUnixTimeSeconds(),
        ["exp"] = Clock.GetUtcNow().AddMinutes(2).ToUnixTimeSeconds(),
        ["jti"] = "bWJq",
        ["sid"] = "08a5019c-17e1-4977-8f42-65a12843ea02",
        ["events"] = new JsonObject { [OidcTokenValidator.BackChannelLogoutEvent] = new JsonObject() },
    };

    public string IdToken(Action<JsonObject>? edit = null, TestKey? key = null, string alg = "RS256", Action<JsonObject>? editHeader = null)
    {
        var claims = IdTokenClaims();
        edit?.Invoke(claims);
        return TestTokens.Sign(key ?? TestKey.Rsa, alg, claims, editHeader);
    }

    public string LogoutToken(Action<JsonObject>? edit = null, TestKey? key = null, string alg = "RS256")
    {
        var claims = LogoutTokenClaims();
        edit?.Invoke(claims);
        return TestTokens.Sign(key ?? TestKey.Rsa, alg, claims, h => h["typ"] = "logout+jwt");
    }

    public Task<TokenValidationResult> ValidateIdToken(string token, string nonce = Nonce) =>
        Validator.ValidateIdTokenAsync(token, ClientId, nonce);

    public Task<TokenValidationResult> ValidateLogoutToken(string token) => Validator.ValidateLogoutTokenAsync(token, ClientId);

    /// <summary>Asserts the failure, and that the refusal neither leaks the token nor hands out its claims.</summary>
    public void AssertFailed(TokenFailure expected, TokenValidationResult result, string token)
    {
        Assert.Equal(expected, result.Failure);
        Assert.False(result.Succeeded);
        Assert.False(string.IsNullOrWhiteSpace(result.Detail));
        Assert.Equal(System.Text.Json.JsonValueKind.Undefined, result.Claims.ValueKind);
        AssertNotLeaked(token, result.Detail!);
        foreach (var line in Log.Lines) AssertNotLeaked(token, line);
    }

    private static void AssertNotLeaked(string token, string text)
    {
        var parts = token.Split('.');
        if (token.Length >= 16) Assert.DoesNotContain(token, text);
        // Each part long enough to mean something (a real signature or payload) must stay out.
        foreach (var part in parts.Where(p => p.Length >= 16)) Assert.DoesNotContain(part, text);
    }
}
