using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Portal.App.Auth.Oidc;

namespace Portal.Tests.Auth.Oidc;

/// <summary>Reading the JWKS, caching it, and picking up the provider's key rotation.</summary>
public class SigningKeyTests
{
    private readonly FakeProvider _idp = new();

    [Fact]
    public async Task RSA_and_EC_keys_are_read_from_the_JWKS()
    {
        var rsa = await _idp.Discovery.FindSigningKeyAsync(TestKey.Rsa.Kid, "RS256");
        var ec = await _idp.Discovery.FindSigningKeyAsync(TestKey.Ec.Kid, "ES256");

        Assert.NotNull(rsa);
        Assert.Equal("rsa-1", rsa.Kid);
        Assert.Equal("RSA", rsa.KeyType);
        Assert.Equal(((RSA)TestKey.Rsa.Key).ExportParameters(false).Modulus, Assert.IsAssignableFrom<RSA>(rsa.Key).ExportParameters(false).Modulus);
        Assert.NotNull(ec);
        Assert.Equal("EC", ec.KeyType);
        Assert.Equal(((ECDsa)TestKey.Ec.Key).ExportParameters(false).Q.X, Assert.IsAssignableFrom<ECDsa>(ec.Key).ExportParameters(false).Q.X);
        Assert.Same(rsa, await _idp.Discovery.FindSigningKeyAsync(TestKey.Rsa.Kid, "PS256"));
        Assert.Equal(1, _idp.JwksRequests);
    }

    [Fact]
    public async Task Keys_not_for_signing_or_of_unsupported_types_are_skipped()
    {
        var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384).ExportParameters(false);
        var weak = (RSA)TestKey.NewRsa("weak", 1024).Key;
        var weakParameters = weak.ExportParameters(false);
        _idp.Jwks =
        [
            TestKey.Rsa.ToJwk(use: "enc"),
            new JsonObject { ["kid"] = "hmac", ["kty"] = "oct", ["k"] = "c2VjcmV0" },
            new JsonObject { ["kid"] = "ed", ["kty"] = "OKP", ["crv"] = "Ed25519", ["x"] = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" },
            new JsonObject { ["kid"] = "p384", ["kty"] = "EC", ["crv"] = "P-384", ["x"] = TestKey.B64(p384.Q.X!), ["y"] = TestKey.B64(p384.Q.Y!) },
            new JsonObject { ["kid"] = "weak", ["kty"] = "RSA", ["n"] = TestKey.B64(weakParameters.Modulus!), ["e"] = TestKey.B64(weakParameters.Exponent!) },
            new JsonObject { ["kid"] = "broken", ["kty"] = "RSA", ["n"] = "not base64url!", ["e"] = "AQAB" },
            new JsonObject { ["kid"] = "off-curve", ["kty"] = "EC", ["crv"] = "P-256", ["x"] = TestKey.B64(new byte[32]), ["y"] = TestKey.B64(new byte[32]) },
            new JsonObject { ["kid"] = "encrypt-only", ["kty"] = "EC", ["crv"] = "P-256", ["key_ops"] = new JsonArray("encrypt") },
            TestKey.Ec.ToJwk(use: null),   // no "use" at all: fine
        ];

        Assert.Null(await _idp.Discovery.FindSigningKeyAsync(TestKey.Rsa.Kid, "RS256"));
        Assert.Null(await _idp.Discovery.FindSigningKeyAsync("p384", "ES256"));
        Assert.Null(await _idp.Discovery.FindSigningKeyAsync("weak", "RS256"));
        Assert.Null(await _idp.Discovery.FindSigningKeyAsync("off-curve", "ES256"));
        Assert.NotNull(await _idp.Discovery.FindSigningKeyAsync(TestKey.Ec.Kid, "ES256"));
        Assert.Equal(["ec-1"], _idp.Discovery.CachedSigningKeys.Select(k => k.Kid));
        // Once per fetch: the first lookup (rsa-1, published for encryption only) fetched again.
        Assert.Equal(2, _idp.JwksRequests);
        // Keys published for something else are routine; broken or weak ones deserve a warning.
        var ignored = _idp.Log.Lines.Where(l => l.Contains(": Ignored key")).Distinct().ToList();
        Assert.Equal(8, ignored.Count);
        Assert.Equal(["broken", "off-curve", "weak"],
            ignored.Where(l => l.StartsWith("Warning:")).Select(l => l.Split(' ')[3]).Order());
    }

    [Fact]
    public async Task Private_parts_in_the_JWKS_are_ignored()
    {
        _idp.Jwks = [TestKey.Rsa.ToJwk(withPrivateParts: true), TestKey.Ec.ToJwk(withPrivateParts: true)];

        var rsa = await _idp.Discovery.FindSigningKeyAsync(TestKey.Rsa.Kid, "RS256");
        var ec = await _idp.Discovery.FindSigningKeyAsync(TestKey.Ec.Kid, "ES256");

        Assert.ThrowsAny<CryptographicException>(() => ((RSA)rsa!.Key).ExportParameters(includePrivateParameters: true));
        Assert.ThrowsAny<CryptographicException>(() => ((ECDsa)ec!.Key).ExportParameters(includePrivateParameters: true));
        Assert.True((await _idp.ValidateIdToken(_idp.IdToken())).Succeeded);
    }

    [Fact]
    public async Task A_modulus_with_a_leading_zero_byte_is_the_same_key()
    {
        var jwk = TestKey.Rsa.ToJwk();
        jwk["n"] = TestKey.B64([0, .. ((RSA)TestKey.Rsa.Key).ExportParameters(false).Modulus!]);
        _idp.Jwks = [jwk];

        Assert.True((await _idp.ValidateIdToken(_idp.IdToken())).Succeeded);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"keys\":{}}")]
    [InlineData("[]")]
    [InlineData("not json")]
    public async Task A_JWKS_without_a_keys_array_throws(string body)
    {
        _idp.RawJwks = body;

        var e = await Assert.ThrowsAsync<OidcException>(() => _idp.Discovery.FindSigningKeyAsync(TestKey.Rsa.Kid, "RS256"));

        Assert.Contains("JWKS", e.Message);
        Assert.Contains(FakeProvider.Authority, e.Message);
    }

    [Fact]
    public async Task An_unreachable_JWKS_makes_validation_throw_rather_than_refuse()
    {
        // A provider outage is not the token's fault: the caller answers "try again later", not "forged token".
        await _idp.Discovery.GetMetadataAsync();
        _idp.FailWith = HttpStatusCode.BadGateway;

        var e = await Assert.ThrowsAsync<OidcException>(() => _idp.ValidateIdToken(_idp.IdToken()));

        Assert.Contains("JWKS", e.Message);
    }

    [Fact]
    public async Task The_keys_are_cached_and_refetched_after_an_hour()
    {
        await _idp.ValidateIdToken(_idp.IdToken());
        await _idp.ValidateIdToken(_idp.IdToken(key: TestKey.Ec, alg: "ES256"));
        Assert.Equal(1, _idp.JwksRequests);

        _idp.Clock.Advance(TimeSpan.FromHours(1));
        Assert.True((await _idp.ValidateIdToken(_idp.IdToken())).Succeeded);

        Assert.Equal(2, _idp.JwksRequests);
        Assert.Equal(2, _idp.DiscoveryRequests);
    }

    [Fact]
    public async Task A_rotated_key_is_picked_up_and_unknown_kids_do_not_refetch_more_than_every_ten_seconds()
    {
        Assert.True((await _idp.ValidateIdToken(_idp.IdToken())).Succeeded);
        Assert.Equal(1, _idp.JwksRequests);

        // The provider rotates: the old key is gone, a new one with a new kid signs from now on.
        var next = TestKey.NewRsa("rsa-2");
        _idp.Jwks = [next.ToJwk()];
        var rotated = await _idp.ValidateIdToken(_idp.IdToken(key: next));

        Assert.True(rotated.Succeeded, rotated.Detail);
        Assert.Equal(2, _idp.JwksRequests);

        // Another unknown kid soon after: no new fetch, whatever the token says.
        _idp.Clock.Advance(TimeSpan.FromSeconds(9));
        var unknown = _idp.IdToken(key: TestKey.NewRsa("rsa-3"));
        _idp.AssertFailed(TokenFailure.UnknownKey, await _idp.ValidateIdToken(unknown), unknown);
        var retired = _idp.IdToken();
        _idp.AssertFailed(TokenFailure.UnknownKey, await _idp.ValidateIdToken(retired), retired);
        Assert.Equal(2, _idp.JwksRequests);

        // Ten seconds after the last refetch an unknown kid may look again.
        _idp.Clock.Advance(TimeSpan.FromSeconds(1));
        _idp.AssertFailed(TokenFailure.UnknownKey, await _idp.ValidateIdToken(unknown), unknown);
        Assert.Equal(3, _idp.JwksRequests);
        Assert.Equal(1, _idp.DiscoveryRequests);
    }

    [Fact]
    public async Task A_key_published_during_the_refetch_pause_is_found_after_it()
    {
        await _idp.ValidateIdToken(_idp.IdToken());
        var early = TestKey.NewEc("ec-2");
        var token = _idp.IdToken(key: early, alg: "ES256");
        _idp.AssertFailed(TokenFailure.UnknownKey, await _idp.ValidateIdToken(token), token);   // refetched: not there yet
        Assert.Equal(2, _idp.JwksRequests);

        _idp.Jwks = [TestKey.Rsa.ToJwk(), early.ToJwk()];
        _idp.AssertFailed(TokenFailure.UnknownKey, await _idp.ValidateIdToken(token), token);   // within 10 s: no refetch
        _idp.Clock.Advance(OidcDiscovery.UnknownKeyRefetchInterval);

        Assert.True((await _idp.ValidateIdToken(token)).Succeeded);
        Assert.Equal(3, _idp.JwksRequests);
    }

    [Fact]
    public async Task Many_tokens_with_unknown_kids_at_once_cause_one_refetch()
    {
        await _idp.Discovery.GetMetadataAsync();
        await _idp.Discovery.FindSigningKeyAsync(TestKey.Rsa.Kid, "RS256");
        var stranger = TestKey.NewEc("stranger");
        var tokens = Enumerable.Range(0, 20)
            .Select(i => TestTokens.Sign(stranger, "ES256", _idp.IdTokenClaims(), h => h["kid"] = $"made-up-{i}")).ToList();

        var results = await Task.WhenAll(tokens.Select(t => Task.Run(() => _idp.ValidateIdToken(t))));

        Assert.All(results, r => Assert.Equal(TokenFailure.UnknownKey, r.Failure));
        Assert.Equal(2, _idp.JwksRequests);
    }

    [Fact]
    public async Task A_failed_refetch_throws_and_still_counts_for_the_pause()
    {
        await _idp.ValidateIdToken(_idp.IdToken());
        _idp.FailWith = HttpStatusCode.InternalServerError;
        var unknown = _idp.IdToken(key: TestKey.NewRsa("rsa-9"));

        await Assert.ThrowsAsync<OidcException>(() => _idp.ValidateIdToken(unknown));
        _idp.AssertFailed(TokenFailure.UnknownKey, await _idp.ValidateIdToken(unknown), unknown);

        Assert.Equal(2, _idp.JwksRequests);
        Assert.True((await _idp.ValidateIdToken(_idp.IdToken())).Succeeded);   // the cached keys still serve
    }

    [Fact]
    public async Task A_kid_that_cannot_verify_the_algorithm_causes_no_refetch()
    {
        Assert.Null(await _idp.Discovery.FindSigningKeyAsync(TestKey.Ec.Kid, "RS256"));

        Assert.Equal(1, _idp.JwksRequests);
    }

    [Fact]
    public async Task Without_a_kid_only_an_unambiguous_key_is_returned()
    {
        Assert.Equal("rsa-1", (await _idp.Discovery.FindSigningKeyAsync(null, "PS256"))?.Kid);
        Assert.Equal("ec-1", (await _idp.Discovery.FindSigningKeyAsync(null, "ES256"))?.Kid);

        _idp.Jwks = [TestKey.Rsa.ToJwk(), TestKey.NewRsa("rsa-2").ToJwk()];
        _idp.Clock.Advance(TimeSpan.FromHours(1));

        Assert.Null(await _idp.Discovery.FindSigningKeyAsync(null, "RS256"));
    }

    [Fact]
    public async Task The_logs_name_keys_but_never_key_material()
    {
        await _idp.Discovery.FindSigningKeyAsync(TestKey.Rsa.Kid, "RS256");

        var n = _idp.Jwks[0]["n"]!.GetValue<string>();
        Assert.Contains(_idp.Log.Lines, l => l.Contains("rsa-1") && l.Contains("ec-1"));
        Assert.DoesNotContain(_idp.Log.Lines, l => l.Contains(n[..20]));
    }
}
