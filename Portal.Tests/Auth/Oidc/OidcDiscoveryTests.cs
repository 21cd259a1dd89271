using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.App.Auth.Oidc;

namespace Portal.Tests.Auth.Oidc;

/// <summary>The discovery document: reading, checking, caching, and clear errors when the provider cannot be used.</summary>
public class OidcDiscoveryTests
{
    private readonly FakeProvider _idp = new();

    [Fact]
    public async Task The_metadata_is_read_from_the_discovery_document()
    {
        var metadata = await _idp.Discovery.GetMetadataAsync();

        Assert.Equal(new OidcMetadata(
            FakeProvider.Authority,
            FakeProvider.Authority + "/protocol/openid-connect/auth",
            FakeProvider.Authority + "/protocol/openid-connect/token",
            FakeProvider.Authority + "/protocol/openid-connect/userinfo",
            "https://idp.example.test" + FakeProvider.JwksPath,
            FakeProvider.Authority + "/protocol/openid-connect/logout"), metadata);
    }

    [Fact]
    public async Task Optional_endpoints_may_be_absent()
    {
        _idp.DiscoveryDocument.Remove("userinfo_endpoint");
        _idp.DiscoveryDocument["end_session_endpoint"] = null;

        var metadata = await _idp.Discovery.GetMetadataAsync();

        Assert.Null(metadata.UserinfoEndpoint);
        Assert.Null(metadata.EndSessionEndpoint);
    }

    [Fact]
    public async Task The_authority_is_kept_without_its_trailing_slash()
    {
        var idp = new FakeProvider(FakeProvider.Authority + "/");

        Assert.Equal(FakeProvider.Authority, idp.Discovery.Authority);
        Assert.Equal(FakeProvider.Authority + "/.well-known/openid-configuration", idp.Discovery.DiscoveryUrl);
        await idp.Discovery.GetMetadataAsync();
        Assert.Equal(1, idp.DiscoveryRequests);
    }

    [Fact]
    public async Task An_issuer_with_a_trailing_slash_matches_the_authority_and_is_then_required_exactly()
    {
        _idp.DiscoveryDocument["issuer"] = FakeProvider.Authority + "/";

        Assert.Equal(FakeProvider.Authority + "/", (await _idp.Discovery.GetMetadataAsync()).Issuer);
        Assert.True((await _idp.ValidateIdToken(_idp.IdToken(c => c["iss"] = FakeProvider.Authority + "/"))).Succeeded);
        Assert.Equal(TokenFailure.WrongIssuer, (await _idp.ValidateIdToken(_idp.IdToken())).Failure);
    }

    [Theory]
    [InlineData("https://evil.example.test/realms/portal")]
    [InlineData("https://idp.example.test/realms/other")]
    [InlineData("https://idp.example.test/realms/portal//")]
    [InlineData("https://idp.example.test/realms")]
    public async Task A_mismatched_issuer_throws(string issuer)
    {
        _idp.DiscoveryDocument["issuer"] = issuer;

        var e = await Assert.ThrowsAsync<OidcException>(() => _idp.Discovery.GetMetadataAsync());

        Assert.Contains(issuer, e.Message);
        Assert.Contains(FakeProvider.Authority, e.Message);
    }

    [Theory]
    [InlineData("issuer")]
    [InlineData("authorization_endpoint")]
    [InlineData("token_endpoint")]
    [InlineData("jwks_uri")]
    public async Task A_missing_required_field_throws(string field)
    {
        _idp.DiscoveryDocument.Remove(field);

        var e = await Assert.ThrowsAsync<OidcException>(() => _idp.Discovery.GetMetadataAsync());

        Assert.Contains(field, e.Message);
    }

    [Theory]
    [InlineData("jwks_uri", "/certs")]
    [InlineData("token_endpoint", "ftp://idp.example.test/token")]
    [InlineData("authorization_endpoint", "")]
    public async Task An_endpoint_that_is_no_absolute_url_throws(string field, string value)
    {
        _idp.DiscoveryDocument[field] = value;

        var e = await Assert.ThrowsAsync<OidcException>(() => _idp.Discovery.GetMetadataAsync());

        Assert.Contains(field, e.Message);
    }

    [Theory]
    [InlineData("<html>login</html>")]
    [InlineData("[]")]
    [InlineData("")]
    public async Task A_document_that_is_no_JSON_object_throws(string body)
    {
        var idp = new FakeProvider();
        var discovery = new OidcDiscovery(new HttpClient(new StaticHandler(HttpStatusCode.OK, body)), FakeProvider.Authority, idp.Clock,
            NullLogger<OidcDiscovery>.Instance);

        var e = await Assert.ThrowsAsync<OidcException>(() => discovery.GetMetadataAsync());

        Assert.Contains(FakeProvider.Authority, e.Message);
    }

    [Fact]
    public async Task A_huge_document_throws()
    {
        _idp.DiscoveryDocument["padding"] = new string('x', 2 * 1024 * 1024);

        var e = await Assert.ThrowsAsync<OidcException>(() => _idp.Discovery.GetMetadataAsync());

        Assert.Contains("larger than", e.Message);
    }

    [Fact]
    public async Task An_error_status_throws_and_the_failure_is_not_cached()
    {
        _idp.FailWith = HttpStatusCode.ServiceUnavailable;
        var e = await Assert.ThrowsAsync<OidcException>(() => _idp.Discovery.GetMetadataAsync());
        Assert.Contains("503", e.Message);
        Assert.Contains(FakeProvider.Authority, e.Message);

        _idp.FailWith = null;
        await _idp.Discovery.GetMetadataAsync();

        Assert.Equal(2, _idp.DiscoveryRequests);
    }

    [Fact]
    public async Task The_metadata_is_cached_for_an_hour()
    {
        await _idp.Discovery.GetMetadataAsync();
        _idp.Clock.Advance(TimeSpan.FromMinutes(59));
        await _idp.Discovery.GetMetadataAsync();
        Assert.Equal(1, _idp.DiscoveryRequests);

        _idp.Clock.Advance(TimeSpan.FromMinutes(1));
        await _idp.Discovery.GetMetadataAsync();
        Assert.Equal(2, _idp.DiscoveryRequests);
    }

    [Fact]
    public async Task Concurrent_callers_share_one_fetch()
    {
        _idp.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, 10).Select(_ => Task.Run(() => _idp.Discovery.GetMetadataAsync())).ToList();
        await Task.Delay(100);
        _idp.Gate.SetResult();

        var results = await Task.WhenAll(calls);

        Assert.All(results, m => Assert.Equal(FakeProvider.Authority, m.Issuer));
        Assert.Equal(1, _idp.DiscoveryRequests);
    }

    [Fact]
    public async Task An_unreachable_authority_throws_with_the_authority_in_the_message()
    {
        // A loopback port nobody listens on: the connection is refused at once.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var authority = $"http://127.0.0.1:{port}/realms/portal";
        using var http = new HttpClient();
        var discovery = new OidcDiscovery(http, authority, TimeProvider.System, NullLogger<OidcDiscovery>.Instance);

        var e = await Assert.ThrowsAsync<OidcException>(() => discovery.GetMetadataAsync());

        Assert.Contains(authority, e.Message);
        Assert.IsType<HttpRequestException>(e.InnerException);
    }

    [Fact]
    public async Task A_provider_that_does_not_answer_in_time_throws()
    {
        _idp.Gate = new TaskCompletionSource();   // never opened
        var discovery = new OidcDiscovery(new HttpClient(_idp) { Timeout = TimeSpan.FromMilliseconds(200) }, FakeProvider.Authority,
            _idp.Clock, NullLogger<OidcDiscovery>.Instance);

        var e = await Assert.ThrowsAsync<OidcException>(() => discovery.GetMetadataAsync());

        Assert.Contains("in time", e.Message);
        Assert.Contains(FakeProvider.Authority, e.Message);
    }

    [Fact]
    public async Task The_callers_cancellation_is_not_turned_into_an_OidcException()
    {
        _idp.Gate = new TaskCompletionSource();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _idp.Discovery.GetMetadataAsync(cancel.Token));
    }

    [Theory]
    [InlineData("")]
    [InlineData("idp.example.test")]
    [InlineData("/realms/portal")]
    [InlineData("ftp://idp.example.test")]
    public void An_authority_that_is_no_http_url_is_refused_at_construction(string authority) =>
        Assert.Throws<ArgumentException>(() => new OidcDiscovery(new HttpClient(), authority, TimeProvider.System, NullLogger<OidcDiscovery>.Instance));

    /// <summary>Answers every request with the same status and body.</summary>
    private sealed class StaticHandler(HttpStatusCode status, string body) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct) =>
            Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body) });
    }
}
