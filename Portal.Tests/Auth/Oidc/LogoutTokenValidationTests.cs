using System.Text.Json.Nodes;
using Portal.App.Auth.Oidc;

namespace Portal.Tests.Auth.Oidc;

/// <summary>Back-channel logout tokens (Back-Channel Logout 1.0 §2.4, §2.6).</summary>
public class LogoutTokenValidationTests
{
    private readonly FakeProvider _idp = new();

    [Theory]
    [InlineData("RS256")]
    [InlineData("PS256")]
    [InlineData("ES256")]
    public async Task A_valid_logout_token_passes_and_names_the_session(string alg)
    {
        var token = _idp.LogoutToken(key: alg == "ES256" ? TestKey.Ec : TestKey.Rsa, alg: alg);

        var result = await _idp.ValidateLogoutToken(token);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Equal("08a5019c-17e1-4977-8f42-65a12843ea02", result.Claims.GetProperty("sid").GetString());
        Assert.Equal("248289761001", result.Claims.GetProperty("sub").GetString());
    }

    [Theory]
    [InlineData("sid")]
    [InlineData("sub")]
    public async Task Either_sid_or_sub_is_enough(string without)
    {
        var result = await _idp.ValidateLogoutToken(_idp.LogoutToken(c => c.Remove(without)));

        Assert.True(result.Succeeded, result.Detail);
    }

    [Fact]
    public async Task Exp_is_optional()
    {
        var result = await _idp.ValidateLogoutToken(_idp.LogoutToken(c => c.Remove("exp")));

        Assert.True(result.Succeeded, result.Detail);
    }

    [Fact]
    public async Task An_expired_logout_token_is_refused()
    {
        var token = _idp.LogoutToken(c =>
        {
            c["iat"] = _idp.Clock.GetUtcNow().AddMinutes(-10).ToUnixTimeSeconds();
            c["exp"] = _idp.Clock.GetUtcNow().AddMinutes(-3).ToUnixTimeSeconds();
        });

        _idp.AssertFailed(TokenFailure.Expired, await _idp.ValidateLogoutToken(token), token);
    }

    [Fact]
    public async Task A_logout_token_from_the_future_is_refused()
    {
        var token = _idp.LogoutToken(c => c["iat"] = _idp.Clock.GetUtcNow().AddMinutes(5).ToUnixTimeSeconds());

        _idp.AssertFailed(TokenFailure.IssuedInFuture, await _idp.ValidateLogoutToken(token), token);
    }

    [Fact]
    public async Task A_logout_token_without_iat_is_refused()
    {
        var token = _idp.LogoutToken(c => c.Remove("iat"));

        _idp.AssertFailed(TokenFailure.IssuedInFuture, await _idp.ValidateLogoutToken(token), token);
    }

    [Fact]
    public async Task Issuer_and_audience_are_checked_as_for_id_tokens()
    {
        var wrongIssuer = _idp.LogoutToken(c => c["iss"] = "https://other.example.test");
        var wrongAudience = _idp.LogoutToken(c => c["aud"] = "other-client");
        var wrongParty = _idp.LogoutToken(c => c["aud"] = new JsonArray(FakeProvider.ClientId, "other-client"));

        _idp.AssertFailed(TokenFailure.WrongIssuer, await _idp.ValidateLogoutToken(wrongIssuer), wrongIssuer);
        _idp.AssertFailed(TokenFailure.WrongAudience, await _idp.ValidateLogoutToken(wrongAudience), wrongAudience);
        _idp.AssertFailed(TokenFailure.WrongAuthorizedParty, await _idp.ValidateLogoutToken(wrongParty), wrongParty);
    }

    [Fact]
    public async Task The_signature_is_checked_as_for_id_tokens()
    {
        var forged = _idp.LogoutToken(key: TestKey.NewRsa(TestKey.Rsa.Kid));
        var none = TestTokens.Part(new JsonObject { ["alg"] = "none" }) + "." + TestTokens.Part(_idp.LogoutTokenClaims()) + ".";

        _idp.AssertFailed(TokenFailure.BadSignature, await _idp.ValidateLogoutToken(forged), forged);
        _idp.AssertFailed(TokenFailure.UnsupportedAlgorithm, await _idp.ValidateLogoutToken(none), none);
        _idp.AssertFailed(TokenFailure.Malformed, await _idp.ValidateLogoutToken("a.b.c.d.e"), "a.b.c.d.e");
    }

    public static TheoryData<string> BadEvents => new()
    {
        "missing",
        "string",
        "array",
        "empty object",
        "other event",
        "event not an object",
    };

    [Theory]
    [MemberData(nameof(BadEvents))]
    public async Task Without_the_back_channel_logout_event_it_is_not_a_logout_token(string shape)
    {
        var token = _idp.LogoutToken(c =>
        {
            switch (shape)
            {
                case "missing": c.Remove("events"); break;
                case "string": c["events"] = OidcTokenValidator.BackChannelLogoutEvent; break;
                case "array": c["events"] = new JsonArray(OidcTokenValidator.BackChannelLogoutEvent); break;
                case "empty object": c["events"] = new JsonObject(); break;
                case "other event": c["events"] = new JsonObject { ["http://schemas.openid.net/event/other"] = new JsonObject() }; break;
                default: c["events"] = new JsonObject { [OidcTokenValidator.BackChannelLogoutEvent] = "yes" }; break;
            }
        });

        _idp.AssertFailed(TokenFailure.NotALogoutToken, await _idp.ValidateLogoutToken(token), token);
    }

    [Fact]
    public async Task A_token_with_a_nonce_is_not_a_logout_token()
    {
        var token = _idp.LogoutToken(c => c["nonce"] = FakeProvider.Nonce);

        var result = await _idp.ValidateLogoutToken(token);

        _idp.AssertFailed(TokenFailure.NotALogoutToken, result, token);
        Assert.Contains("nonce", result.Detail);
    }

    [Fact]
    public async Task A_token_without_sid_and_sub_is_not_a_logout_token()
    {
        var token = _idp.LogoutToken(c => { c.Remove("sid"); c.Remove("sub"); });

        _idp.AssertFailed(TokenFailure.NotALogoutToken, await _idp.ValidateLogoutToken(token), token);
    }

    [Theory]
    [InlineData("sid")]
    [InlineData("sub")]
    public async Task A_sid_or_sub_that_is_not_a_string_is_refused(string claim)
    {
        var token = _idp.LogoutToken(c => c[claim] = 12345);

        _idp.AssertFailed(TokenFailure.NotALogoutToken, await _idp.ValidateLogoutToken(token), token);
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("empty")]
    public async Task A_token_without_jti_is_not_a_logout_token(string shape)
    {
        var token = _idp.LogoutToken(c => { if (shape == "missing") c.Remove("jti"); else c["jti"] = ""; });

        _idp.AssertFailed(TokenFailure.NotALogoutToken, await _idp.ValidateLogoutToken(token), token);
    }

    [Fact]
    public async Task An_id_token_is_not_a_logout_token()
    {
        var token = _idp.IdToken();

        _idp.AssertFailed(TokenFailure.NotALogoutToken, await _idp.ValidateLogoutToken(token), token);
    }
}
