using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Portal.App.Auth.Oidc;

namespace Portal.Tests.Auth.Oidc;

/// <summary>ID token validation (OpenID Connect Core 1.0 §3.1.3.7) against real RSA and EC signatures.</summary>
public class IdTokenValidationTests
{
    private readonly FakeProvider _idp = new();

    public static TheoryData<string, string> Algorithms => new() { { "RS256", "rsa" }, { "PS256", "rsa" }, { "ES256", "ec" } };

    private static TestKey KeyNamed(string name) => name == "rsa" ? TestKey.Rsa : TestKey.Ec;

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task A_valid_token_passes_and_its_claims_are_readable(string alg, string key)
    {
        var token = _idp.IdToken(key: KeyNamed(key), alg: alg);

        var result = await _idp.ValidateIdToken(token);

        Assert.True(result.Succeeded, result.Detail);
        Assert.Null(result.Failure);
        Assert.Null(result.Detail);
        Assert.Equal("248289761001", result.Claims.GetProperty("sub").GetString());
        Assert.Equal("jane@example.test", result.Claims.GetProperty("email").GetString());
        Assert.Equal(["staff", "finance"], result.Claims.GetProperty("groups").EnumerateArray().Select(g => g.GetString()));
    }

    [Fact]
    public async Task The_claims_outlive_the_validation()
    {
        var result = await _idp.ValidateIdToken(_idp.IdToken());
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.Equal("Jane Doe", result.Claims.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Alg_none_with_an_empty_signature_is_refused_before_any_key_lookup()
    {
        var token = TestTokens.Part(new JsonObject { ["alg"] = "none", ["typ"] = "JWT" }) + "." + TestTokens.Part(_idp.IdTokenClaims()) + ".";

        var result = await _idp.ValidateIdToken(token);

        _idp.AssertFailed(TokenFailure.UnsupportedAlgorithm, result, token);
        Assert.Equal(0, _idp.Requests);
    }

    [Theory]
    [InlineData("pem")]
    [InlineData("der")]
    [InlineData("jwk")]
    public async Task HS256_keyed_with_the_public_key_is_refused_before_any_key_lookup(string encoding)
    {
        // The classic forgery: a verifier that takes "the key" for HMAC would use the public key as the secret.
        var rsa = (RSA)TestKey.Rsa.Key;
        var secret = encoding switch
        {
            "pem" => Encoding.ASCII.GetBytes(rsa.ExportSubjectPublicKeyInfoPem()),
            "der" => rsa.ExportSubjectPublicKeyInfo(),
            _ => Encoding.UTF8.GetBytes(TestKey.Rsa.ToJwk().ToJsonString()),
        };
        var header = TestTokens.Part(new JsonObject { ["alg"] = "HS256", ["typ"] = "JWT", ["kid"] = TestKey.Rsa.Kid });
        var token = TestTokens.Sign(header, TestTokens.Part(_idp.IdTokenClaims()), data => HMACSHA256.HashData(secret, data));

        var result = await _idp.ValidateIdToken(token);

        _idp.AssertFailed(TokenFailure.UnsupportedAlgorithm, result, token);
        Assert.Equal(0, _idp.Requests);
    }

    [Theory]
    [InlineData("HS384")]
    [InlineData("HS512")]
    [InlineData("None")]
    [InlineData("NONE")]
    [InlineData("rs256")]
    [InlineData("RS384")]
    [InlineData("RS512")]
    [InlineData("PS512")]
    [InlineData("ES384")]
    [InlineData("ES256K")]
    [InlineData("EdDSA")]
    [InlineData("RSA-OAEP")]
    [InlineData("")]
    public async Task Any_other_algorithm_is_refused(string alg)
    {
        var token = _idp.IdToken(editHeader: h => h["alg"] = alg);

        var result = await _idp.ValidateIdToken(token);

        _idp.AssertFailed(TokenFailure.UnsupportedAlgorithm, result, token);
        Assert.Equal(0, _idp.Requests);
    }

    [Fact]
    public async Task An_RS256_header_on_an_EC_key_finds_no_key()
    {
        // Signed by the RSA key, but naming the EC key: the EC key cannot verify RS256 whatever the signature.
        var token = _idp.IdToken(editHeader: h => h["kid"] = TestKey.Ec.Kid);

        var result = await _idp.ValidateIdToken(token);

        _idp.AssertFailed(TokenFailure.UnknownKey, result, token);
        Assert.Contains("EC key", result.Detail);
        Assert.Contains("RS256", result.Detail);
    }

    [Fact]
    public async Task An_ES256_header_on_an_RSA_key_finds_no_key()
    {
        var token = _idp.IdToken(key: TestKey.Ec, alg: "ES256", editHeader: h => h["kid"] = TestKey.Rsa.Kid);

        var result = await _idp.ValidateIdToken(token);

        _idp.AssertFailed(TokenFailure.UnknownKey, result, token);
        Assert.Contains("RSA key", result.Detail);
    }

    [Fact]
    public async Task A_key_published_for_RS256_only_does_not_verify_PS256()
    {
        _idp.Jwks = [TestKey.Rsa.ToJwk(alg: "RS256")];
        var token = _idp.IdToken(alg: "PS256");

        var result = await _idp.ValidateIdToken(token);

        _idp.AssertFailed(TokenFailure.UnknownKey, result, token);
        Assert.True((await _idp.ValidateIdToken(_idp.IdToken(alg: "RS256"))).Succeeded);
    }

    [Fact]
    public async Task A_wrong_issuer_is_refused_and_named()
    {
        var token = _idp.IdToken(c => c["iss"] = "https://evil.example.test/realms/portal");

        var result = await _idp.ValidateIdToken(token);

        _idp.AssertFailed(TokenFailure.WrongIssuer, result, token);
        Assert.Equal("the token's issuer is https://evil.example.test/realms/portal, expected https://idp.example.test/realms/portal", result.Detail);
    }

    [Theory]
    [InlineData("https://idp.example.test/realms/portal/")]   // the discovery check ignores one slash; iss must be exact
    [InlineData("https://IDP.example.test/realms/portal")]
    [InlineData(null)]
    public async Task The_issuer_must_match_exactly(string? iss)
    {
        var token = _idp.IdToken(c => { if (iss is null) c.Remove("iss"); else c["iss"] = iss; });

        _idp.AssertFailed(TokenFailure.WrongIssuer, await _idp.ValidateIdToken(token), token);
    }

    [Fact]
    public async Task A_wrong_audience_is_refused()
    {
        var token = _idp.IdToken(c => c["aud"] = "another-app");

        var result = await _idp.ValidateIdToken(token);

        _idp.AssertFailed(TokenFailure.WrongAudience, result, token);
        Assert.Contains("another-app", result.Detail);
    }

    [Fact]
    public async Task An_audience_array_without_this_client_is_refused()
    {
        var token = _idp.IdToken(c => { c["aud"] = new JsonArray("a", "b"); c["azp"] = "a"; });

        _idp.AssertFailed(TokenFailure.WrongAudience, await _idp.ValidateIdToken(token), token);
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("number")]
    [InlineData("empty array")]
    [InlineData("array of numbers")]
    public async Task A_missing_or_odd_audience_is_refused(string shape)
    {
        var token = _idp.IdToken(c =>
        {
            switch (shape)
            {
                case "missing": c.Remove("aud"); break;
                case "number": c["aud"] = 42; break;
                case "empty array": c["aud"] = new JsonArray(); break;
                default: c["aud"] = new JsonArray(1, 2); break;
            }
        });

        _idp.AssertFailed(TokenFailure.WrongAudience, await _idp.ValidateIdToken(token), token);
    }

    [Fact]
    public async Task An_audience_array_of_one_needs_no_azp()
    {
        var result = await _idp.ValidateIdToken(_idp.IdToken(c => c["aud"] = new JsonArray(FakeProvider.ClientId)));

        Assert.True(result.Succeeded, result.Detail);
    }

    [Fact]
    public async Task Several_audiences_without_azp_are_refused()
    {
        var token = _idp.IdToken(c => c["aud"] = new JsonArray(FakeProvider.ClientId, "reporting-api"));

        _idp.AssertFailed(TokenFailure.WrongAuthorizedParty, await _idp.ValidateIdToken(token), token);
    }

    [Fact]
    public async Task Several_audiences_with_azp_of_this_client_pass()
    {
        var token = _idp.IdToken(c => { c["aud"] = new JsonArray("reporting-api", FakeProvider.ClientId); c["azp"] = FakeProvider.ClientId; });

        var result = await _idp.ValidateIdToken(token);

        Assert.True(result.Succeeded, result.Detail);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_azp_of_another_client_is_refused(bool severalAudiences)
    {
        var token = _idp.IdToken(c =>
        {
            if (severalAudiences) c["aud"] = new JsonArray(FakeProvider.ClientId, "other-client");
            c["azp"] = "other-client";
        });

        var result = await _idp.ValidateIdToken(token);

        _idp.AssertFailed(TokenFailure.WrongAuthorizedParty, result, token);
        Assert.Contains("other-client", result.Detail);
    }

    [Theory]
    [InlineData(-121)]   // beyond the two minutes of skew
    [InlineData(-120)]   // exactly at the edge: exp must be later than now minus the skew
    [InlineData(-3600)]
    public async Task An_expired_token_is_refused(int expiresInSeconds)
    {
        var token = _idp.IdToken(c =>
        {
            c["iat"] = _idp.Clock.GetUtcNow().AddMinutes(-10).ToUnixTimeSeconds();
            c["exp"] = _idp.Clock.GetUtcNow().AddSeconds(expiresInSeconds).ToUnixTimeSeconds();
        });

        _idp.AssertFailed(TokenFailure.Expired, await _idp.ValidateIdToken(token), token);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(-119)]
    public async Task A_token_expired_within_the_clock_skew_passes(int expiresInSeconds)
    {
        var token = _idp.IdToken(c =>
        {
            c["iat"] = _idp.Clock.GetUtcNow().AddMinutes(-10).ToUnixTimeSeconds();
            c["exp"] = _idp.Clock.GetUtcNow().AddSeconds(expiresInSeconds).ToUnixTimeSeconds();
        });

        var result = await _idp.ValidateIdToken(token);

        Assert.True(result.Succeeded, result.Detail);
    }

    [Fact]
    public async Task A_token_expires_as_the_clock_moves_on()
    {
        var token = _idp.IdToken();
        Assert.True((await _idp.ValidateIdToken(token)).Succeeded);

        _idp.Clock.Advance(TimeSpan.FromMinutes(5) + OidcTokenValidator.ClockSkew + TimeSpan.FromSeconds(1));

        _idp.AssertFailed(TokenFailure.Expired, await _idp.ValidateIdToken(token), token);
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("string")]
    public async Task An_id_token_without_a_numeric_exp_is_refused(string shape)
    {
        var token = _idp.IdToken(c => { if (shape == "missing") c.Remove("exp"); else c["exp"] = "tomorrow"; });

        _idp.AssertFailed(TokenFailure.Expired, await _idp.ValidateIdToken(token), token);
    }

    [Fact]
    public async Task A_fractional_exp_is_a_valid_numeric_date()
    {
        var result = await _idp.ValidateIdToken(_idp.IdToken(c => c["exp"] = _idp.Clock.GetUtcNow().ToUnixTimeSeconds() + 60.5));

        Assert.True(result.Succeeded, result.Detail);
    }

    [Fact]
    public async Task A_token_issued_in_the_future_is_refused()
    {
        var token = _idp.IdToken(c =>
        {
            c["iat"] = _idp.Clock.GetUtcNow().AddSeconds(121).ToUnixTimeSeconds();
            c["exp"] = _idp.Clock.GetUtcNow().AddMinutes(10).ToUnixTimeSeconds();
        });

        _idp.AssertFailed(TokenFailure.IssuedInFuture, await _idp.ValidateIdToken(token), token);
    }

    [Fact]
    public async Task A_token_issued_slightly_in_the_future_passes()
    {
        // The provider's clock may run up to the skew ahead of ours.
        var result = await _idp.ValidateIdToken(_idp.IdToken(c => c["iat"] = _idp.Clock.GetUtcNow().AddSeconds(120).ToUnixTimeSeconds()));

        Assert.True(result.Succeeded, result.Detail);
    }

    [Fact]
    public async Task A_token_without_iat_is_refused()
    {
        var token = _idp.IdToken(c => c.Remove("iat"));

        _idp.AssertFailed(TokenFailure.IssuedInFuture, await _idp.ValidateIdToken(token), token);
    }

    [Fact]
    public async Task A_token_not_yet_valid_is_refused()
    {
        var token = _idp.IdToken(c => c["nbf"] = _idp.Clock.GetUtcNow().AddMinutes(3).ToUnixTimeSeconds());

        _idp.AssertFailed(TokenFailure.IssuedInFuture, await _idp.ValidateIdToken(token), token);
    }

    [Fact]
    public async Task A_wrong_nonce_is_refused_without_logging_either_nonce()
    {
        var token = _idp.IdToken(c => c["nonce"] = "replayed-nonce-from-elsewhere");

        var result = await _idp.ValidateIdToken(token);

        _idp.AssertFailed(TokenFailure.WrongNonce, result, token);
        Assert.DoesNotContain("replayed-nonce-from-elsewhere", result.Detail);
        Assert.DoesNotContain(FakeProvider.Nonce, result.Detail);
    }

    [Fact]
    public async Task The_nonce_is_compared_exactly()
    {
        var token = _idp.IdToken(c => c["nonce"] = FakeProvider.Nonce.ToUpperInvariant());

        _idp.AssertFailed(TokenFailure.WrongNonce, await _idp.ValidateIdToken(token), token);
    }

    [Fact]
    public async Task A_missing_nonce_is_refused()
    {
        var token = _idp.IdToken(c => c.Remove("nonce"));

        _idp.AssertFailed(TokenFailure.WrongNonce, await _idp.ValidateIdToken(token), token);
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    public async Task No_expected_nonce_accepts_nothing(string? expected)
    {
        var token = _idp.IdToken(c => c["nonce"] = "");

        _idp.AssertFailed(TokenFailure.WrongNonce, await _idp.Validator.ValidateIdTokenAsync(token, FakeProvider.ClientId, expected!), token);
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("empty")]
    [InlineData("number")]
    public async Task A_token_without_a_subject_is_refused(string shape)
    {
        var token = _idp.IdToken(c =>
        {
            if (shape == "missing") c.Remove("sub");
            else c["sub"] = shape == "empty" ? "" : 42;
        });

        _idp.AssertFailed(TokenFailure.MissingSubject, await _idp.ValidateIdToken(token), token);
    }

    [Fact]
    public async Task An_unknown_kid_is_refused()
    {
        var stranger = TestKey.NewEc("not-published");
        var token = _idp.IdToken(key: stranger, alg: "ES256");

        var result = await _idp.ValidateIdToken(token);

        _idp.AssertFailed(TokenFailure.UnknownKey, result, token);
        Assert.Contains("not-published", result.Detail);
    }

    [Fact]
    public async Task Without_a_kid_the_only_key_of_the_right_type_is_used()
    {
        // RSA and EC keys are published: for ES256 only one fits.
        var result = await _idp.ValidateIdToken(_idp.IdToken(key: TestKey.Ec, alg: "ES256", editHeader: h => h.Remove("kid")));

        Assert.True(result.Succeeded, result.Detail);
    }

    [Fact]
    public async Task Without_a_kid_and_several_fitting_keys_no_key_is_guessed()
    {
        _idp.Jwks = [TestKey.Rsa.ToJwk(), TestKey.NewRsa("rsa-2").ToJwk()];
        var token = _idp.IdToken(editHeader: h => h.Remove("kid"));

        _idp.AssertFailed(TokenFailure.UnknownKey, await _idp.ValidateIdToken(token), token);
    }

    [Fact]
    public async Task A_tampered_payload_with_the_original_signature_is_refused()
    {
        var genuine = _idp.IdToken();
        var parts = genuine.Split('.');
        var claims = _idp.IdTokenClaims();
        claims["sub"] = "admin";
        var token = $"{parts[0]}.{TestTokens.Part(claims)}.{parts[2]}";

        _idp.AssertFailed(TokenFailure.BadSignature, await _idp.ValidateIdToken(token), token);
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task A_signature_by_another_key_under_a_published_kid_is_refused(string alg, string key)
    {
        var impostor = key == "rsa" ? TestKey.NewRsa(TestKey.Rsa.Kid) : TestKey.NewEc(TestKey.Ec.Kid);
        var token = _idp.IdToken(key: impostor, alg: alg);

        _idp.AssertFailed(TokenFailure.BadSignature, await _idp.ValidateIdToken(token), token);
    }

    [Fact]
    public async Task A_key_embedded_in_the_header_is_not_trusted()
    {
        var attacker = TestKey.NewRsa(TestKey.Rsa.Kid);
        var token = _idp.IdToken(key: attacker, editHeader: h => h["jwk"] = attacker.ToJwk());

        _idp.AssertFailed(TokenFailure.BadSignature, await _idp.ValidateIdToken(token), token);
    }

    [Fact]
    public async Task An_RS256_signature_does_not_pass_as_PS256()
    {
        var rs256 = _idp.IdToken();
        var parts = rs256.Split('.');
        var psHeader = TestTokens.Part(new JsonObject { ["alg"] = "PS256", ["kid"] = TestKey.Rsa.Kid });
        var token = $"{psHeader}.{parts[1]}.{parts[2]}";

        _idp.AssertFailed(TokenFailure.BadSignature, await _idp.ValidateIdToken(token), token);
    }

    [Theory]
    [InlineData("der")]      // the DER encoding .NET produces by default, not the JWS r||s
    [InlineData("short")]
    [InlineData("zeros")]
    public async Task A_malformed_ES256_signature_is_refused(string shape)
    {
        var genuine = _idp.IdToken(key: TestKey.Ec, alg: "ES256");
        var input = genuine[..genuine.LastIndexOf('.')];
        var ec = (ECDsa)TestKey.Ec.Key;
        var signature = shape switch
        {
            "der" => ec.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence),
            "short" => ec.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256,
                DSASignatureFormat.IeeeP1363FixedFieldConcatenation)[..63],
            _ => new byte[64],
        };
        var token = input + "." + TestKey.B64(signature);

        _idp.AssertFailed(TokenFailure.BadSignature, await _idp.ValidateIdToken(token), token);
    }

    [Fact]
    public async Task A_JWE_shaped_five_part_token_is_malformed()
    {
        var header = TestTokens.Part(new JsonObject { ["alg"] = "RSA-OAEP", ["enc"] = "A256GCM", ["kid"] = TestKey.Rsa.Kid });
        var token = $"{header}.{TestKey.B64(RandomNumberGenerator.GetBytes(256))}.{TestKey.B64(RandomNumberGenerator.GetBytes(12))}." +
                    $"{TestKey.B64(RandomNumberGenerator.GetBytes(300))}.{TestKey.B64(RandomNumberGenerator.GetBytes(16))}";

        var result = await _idp.ValidateIdToken(token);

        _idp.AssertFailed(TokenFailure.Malformed, result, token);
        Assert.Contains("JWE", result.Detail);
        Assert.Equal(0, _idp.Requests);
    }

    public static TheoryData<string?> Garbage => new()
    {
        null,
        "",
        "not a token",
        "!!!.@@@.###",
        "abc.def",
        "a.b.c.d",
        "....",
        "..",
        "eyJhbGciOiJSUzI1NiJ9..",                         // a header, then nothing
        "eyJhbGciOiJSUzI1NiJ9.e30.",                      // RS256 without a signature
        "eyJhbGciOiJSUzI1NiJ9.e30.c2ln=",                 // padding is not base64url in a JWS
        "eyJhbGciOiJSUzI1NiJ9.e3 0.c2ln",                 // nor is whitespace
        "eyJhbGciOiJSUzI1NiJ9.e30+.c2ln",                 // nor base64's + and /
        "eyJhbGciOiJSUzI1NiJ9.e30.c2lnA",                 // a length no base64 can have
        TestTokens.Part("not json") + ".e30.c2ln",
        TestTokens.Part("[\"RS256\"]") + ".e30.c2ln",
        TestTokens.Part("{\"typ\":\"JWT\"}") + ".e30.c2ln", // no alg
        TestTokens.Part("{\"alg\":256}") + ".e30.c2ln",
        TestTokens.Part("{\"alg\":\"RS256\",\"alg\":\"none\"}") + ".e30.c2ln", // duplicate members are ambiguous
        TestTokens.Part("{\"alg\":\"RS256\",\"kid\":7}") + ".e30.c2ln",
        TestTokens.Part("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"crit\":[\"b64\"],\"b64\":false}") + ".e30.c2ln",
        TestKey.B64([0xC3, 0x28, 0xA0]) + ".e30.c2ln",      // not UTF-8
    };

    [Theory]
    [MemberData(nameof(Garbage))]
    public async Task Garbage_is_malformed_and_never_throws(string? token)
    {
        var result = await _idp.ValidateIdToken(token!);

        _idp.AssertFailed(TokenFailure.Malformed, result, token ?? "");
        Assert.Equal(0, _idp.Requests);
    }

    [Fact]
    public async Task A_token_longer_than_anything_real_is_malformed()
    {
        var token = _idp.IdToken(c => c["padding"] = new string('x', 300_000));

        _idp.AssertFailed(TokenFailure.Malformed, await _idp.ValidateIdToken(token), token);
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("[1,2,3]")]
    [InlineData("{\"sub\":\"a\",\"sub\":\"b\"}")]
    public async Task A_signed_payload_that_is_no_JSON_object_is_malformed(string payload)
    {
        var header = TestTokens.Part(new JsonObject { ["alg"] = "RS256", ["kid"] = TestKey.Rsa.Kid });
        var token = TestTokens.Sign(header, TestTokens.Part(payload), data => TestKey.Rsa.Sign("RS256", data));

        _idp.AssertFailed(TokenFailure.Malformed, await _idp.ValidateIdToken(token), token);
    }

    [Fact]
    public async Task Values_from_the_token_are_bounded_and_stripped_of_control_characters_in_the_detail()
    {
        var token = _idp.IdToken(c => c["iss"] = "https://evil.example.test/\r\nFAKE AUDIT LINE " + new string('a', 500));

        var result = await _idp.ValidateIdToken(token);

        _idp.AssertFailed(TokenFailure.WrongIssuer, result, token);
        Assert.DoesNotContain("\n", result.Detail);
        Assert.DoesNotContain("\r", result.Detail);
        Assert.True(result.Detail!.Length < 250, result.Detail);
    }

    [Fact]
    public async Task A_logout_token_is_not_an_id_token()
    {
        var token = _idp.LogoutToken();

        _idp.AssertFailed(TokenFailure.WrongNonce, await _idp.ValidateIdToken(token), token);
    }

    [Fact]
    public async Task Validations_in_parallel_all_pass()
    {
        var tokens = Enumerable.Range(0, 40).Select(i => (i % 3) switch
        {
            0 => _idp.IdToken(),
            1 => _idp.IdToken(alg: "PS256"),
            _ => _idp.IdToken(key: TestKey.Ec, alg: "ES256"),
        }).ToList();

        var results = await Task.WhenAll(tokens.Select(t => Task.Run(() => _idp.ValidateIdToken(t))));

        Assert.All(results, r => Assert.True(r.Succeeded, r.Detail));
        Assert.Equal(1, _idp.DiscoveryRequests);
        Assert.Equal(1, _idp.JwksRequests);
    }
}
