using System.Text.Json;

namespace Portal.App.Auth.Oidc;

/// <summary>
/// Fetches and caches {authority}/.well-known/openid-configuration and the provider's JWKS. One instance per
/// provider (a singleton): the caches and the rotation throttle live here.
/// </summary>
public sealed class OidcDiscovery
{
    /// <summary>How long the discovery document and the JWKS are reused before they are fetched again.</summary>
    public static readonly TimeSpan CacheDuration = TimeSpan.FromHours(1);

    /// <summary>The shortest time between two JWKS refetches caused by unknown kids, so that tokens with
    /// made-up kids cannot make the portal hammer the provider.</summary>
    public static readonly TimeSpan UnknownKeyRefetchInterval = TimeSpan.FromSeconds(10);

    // Both documents are a few KiB; a provider (or something pretending to be one) answering more is refused.
    private const int MaxDocumentBytes = 1024 * 1024;

    private static readonly JsonDocumentOptions StrictJson = new() { AllowDuplicateProperties = false };

    private readonly HttpClient _http;
    private readonly TimeProvider _clock;
    private readonly ILogger<OidcDiscovery> _log;
    private readonly SemaphoreSlim _metadataGate = new(1, 1);
    private readonly SemaphoreSlim _keysGate = new(1, 1);
    private volatile CachedMetadata? _metadata;
    private volatile CachedKeys? _keys;
    private DateTimeOffset? _lastUnknownKeyRefetch;

    private sealed record CachedMetadata(OidcMetadata Value, DateTimeOffset FetchedAt);

    private sealed record CachedKeys(IReadOnlyList<SigningKey> Keys, string JwksUri, DateTimeOffset FetchedAt);

    public OidcDiscovery(HttpClient http, string authority, TimeProvider clock, ILogger<OidcDiscovery> log)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(log);
        if (!IsHttpUrl(authority))
            throw new ArgumentException($"The OIDC authority must be an absolute http(s) URL, not \"{authority}\".", nameof(authority));
        _http = http;
        _clock = clock;
        _log = log;
        Authority = WithoutTrailingSlash(authority);
    }

    /// <summary>The authority as configured, without a trailing slash.</summary>
    public string Authority { get; }

    public string DiscoveryUrl => Authority + "/.well-known/openid-configuration";

    /// <summary>
    /// The provider's metadata, cached for <see cref="CacheDuration"/>. A failed fetch is not cached (the next call
    /// tries again). Throws <see cref="OidcException"/> when the provider is unreachable or the document is invalid.
    /// </summary>
    public async Task<OidcMetadata> GetMetadataAsync(CancellationToken ct = default)
    {
        if (_metadata is { } cached && IsFresh(cached.FetchedAt)) return cached.Value;
        await _metadataGate.WaitAsync(ct);
        try
        {
            // Another caller may have fetched it while this one waited.
            if (_metadata is { } again && IsFresh(again.FetchedAt)) return again.Value;
            var fetchedAt = _clock.GetUtcNow();
            using var document = await FetchJsonAsync(DiscoveryUrl, "discovery document", ct);
            var metadata = ReadMetadata(document.RootElement);
            _metadata = new CachedMetadata(metadata, fetchedAt);
            _log.LogInformation("Fetched the OpenID configuration of {Authority}", Authority);
            return metadata;
        }
        finally
        {
            _metadataGate.Release();
        }
    }

    /// <summary>
    /// The key that can verify a token with this kid and alg, or null. With no kid: the only key whose type fits
    /// alg, else null. When the kid is not in the cached JWKS, the JWKS is fetched again (at most once every
    /// <see cref="UnknownKeyRefetchInterval"/>): that is how the provider's key rotation is picked up. Throws
    /// <see cref="OidcException"/> when the provider is unreachable or its JWKS is invalid.
    /// </summary>
    public async Task<SigningKey?> FindSigningKeyAsync(string? kid, string alg, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(alg);
        var metadata = await GetMetadataAsync(ct);
        var keys = await GetKeysAsync(metadata, ct);
        var key = Pick(keys.Keys, kid, alg, out var conclusive);
        if (key is not null || conclusive) return key;

        await _keysGate.WaitAsync(ct);
        try
        {
            if (_keys is { } newer && !ReferenceEquals(newer, keys))
                return Pick(newer.Keys, kid, alg, out _);
            var now = _clock.GetUtcNow();
            if (_lastUnknownKeyRefetch is { } last && now - last < UnknownKeyRefetchInterval) return null;
            _lastUnknownKeyRefetch = now;
            _log.LogInformation("No signing key {Kid} for {Algorithm} in the JWKS of {Authority}: fetching it again",
                kid is null ? "(no kid)" : OidcTokenValidator.Show(kid), alg, Authority);
            var fresh = await FetchKeysAsync(metadata.JwksUri, ct);
            _keys = fresh;
            return Pick(fresh.Keys, kid, alg, out _);
        }
        finally
        {
            _keysGate.Release();
        }
    }

    /// <summary>The keys of the last JWKS fetched (empty before the first), to explain why a key was not found.</summary>
    public IReadOnlyList<SigningKey> CachedSigningKeys => _keys?.Keys ?? [];

    private async Task<CachedKeys> GetKeysAsync(OidcMetadata metadata, CancellationToken ct)
    {
        if (_keys is { } cached && IsCurrent(cached, metadata)) return cached;
        await _keysGate.WaitAsync(ct);
        try
        {
            if (_keys is { } again && IsCurrent(again, metadata)) return again;
            var fresh = await FetchKeysAsync(metadata.JwksUri, ct);
            _keys = fresh;
            return fresh;
        }
        finally
        {
            _keysGate.Release();
        }
    }

    // A jwks_uri changed by a refreshed discovery document makes the cached keys stale too.
    private bool IsCurrent(CachedKeys keys, OidcMetadata metadata) => keys.JwksUri == metadata.JwksUri && IsFresh(keys.FetchedAt);

    private bool IsFresh(DateTimeOffset fetchedAt) => _clock.GetUtcNow() - fetchedAt < CacheDuration;

    private async Task<CachedKeys> FetchKeysAsync(string jwksUri, CancellationToken ct)
    {
        var fetchedAt = _clock.GetUtcNow();
        using var document = await FetchJsonAsync(jwksUri, "JWKS", ct);
        List<SigningKey> keys;
        List<JsonWebKeySet.SkippedKey> skipped;
        try
        {
            (keys, skipped) = JsonWebKeySet.Parse(document.RootElement);
        }
        catch (FormatException e)
        {
            throw new OidcException($"The JWKS of the OpenID provider {Authority} ({jwksUri}) is invalid: {e.Message}.");
        }
        foreach (var skip in skipped)
        {
            // Encryption keys and other key types are normal in a JWKS; a broken or weak signing key is worth a look.
            _log.Log(skip.Expected ? LogLevel.Debug : LogLevel.Warning, "Ignored {Key} in the JWKS of {Authority}: {Reason}",
                skip.Name, Authority, skip.Reason);
        }
        if (keys.Count == 0) _log.LogWarning("The JWKS of {Authority} has no usable signing key", Authority);
        else _log.LogInformation("Fetched the JWKS of {Authority}: {Keys}", Authority, string.Join(", ", keys));
        return new CachedKeys(keys, jwksUri, fetchedAt);
    }

    /// <summary>The key for kid and alg, or null; <paramref name="conclusive"/> says a refetch could not help: the kid
    /// is published but cannot verify alg, or (without a kid) several keys fit.</summary>
    private static SigningKey? Pick(IReadOnlyList<SigningKey> keys, string? kid, string alg, out bool conclusive)
    {
        if (kid is null)
        {
            // Without a kid the choice must be unambiguous; trying each key in turn is not something we do.
            var fitting = keys.Where(k => k.Fits(alg)).Take(2).ToList();
            conclusive = fitting.Count > 1;
            return fitting.Count == 1 ? fitting[0] : null;
        }
        conclusive = false;
        foreach (var key in keys)
        {
            if (key.Kid != kid) continue;
            if (key.Fits(alg)) return key;
            conclusive = true;
        }
        return null;
    }

    private OidcMetadata ReadMetadata(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw Invalid("is not a JSON object");

        var issuer = Required("issuer");
        // OIDC Discovery §4.3: the issuer must be the authority the document was fetched from, else a provider
        // could vouch for tokens of another.
        if (WithoutTrailingSlash(issuer) != Authority)
            throw Invalid($"names the issuer \"{issuer}\", which is not the configured authority {Authority}");

        return new OidcMetadata(issuer, Url("authorization_endpoint", required: true)!, Url("token_endpoint", required: true)!,
            Url("userinfo_endpoint", required: false), Url("jwks_uri", required: true)!, Url("end_session_endpoint", required: false));

        string Required(string name) =>
            root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
                ? text
                : throw Invalid($"has no \"{name}\"");

        string? Url(string name, bool required)
        {
            if (!required && (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)) return null;
            var url = Required(name);
            return IsHttpUrl(url) ? url : throw Invalid($"has a \"{name}\" that is not an absolute http(s) URL");
        }

        OidcException Invalid(string problem) =>
            new($"The discovery document of the OpenID provider {Authority} ({DiscoveryUrl}) {problem}.");
    }

    private async Task<JsonDocument> FetchJsonAsync(string url, string what, CancellationToken ct)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Accept.ParseAdd("application/json");
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            if (!response.IsSuccessStatusCode)
                throw new OidcException($"The OpenID provider {Authority} answered {(int)response.StatusCode} {response.ReasonPhrase} for its {what} ({url}).");
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            var bytes = await ReadAtMostAsync(body, MaxDocumentBytes, ct)
                ?? throw new OidcException($"The {what} of the OpenID provider {Authority} ({url}) is larger than {MaxDocumentBytes / 1024} KiB.");
            return JsonDocument.Parse(bytes, StrictJson);
        }
        catch (JsonException e)
        {
            throw new OidcException($"The {what} of the OpenID provider {Authority} ({url}) is not valid JSON: {e.Message}", e);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            throw new OidcException($"Cannot reach the OpenID provider {Authority} for its {what} ({url}): {e.Message}", e);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            // HttpClient.Timeout surfaces as a cancellation nobody asked for.
            throw new OidcException($"The OpenID provider {Authority} did not answer in time for its {what} ({url}).", e);
        }
    }

    private static async Task<ReadOnlyMemory<byte>?> ReadAtMostAsync(Stream body, int limit, CancellationToken ct)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > limit) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    private static bool IsHttpUrl(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);

    private static string WithoutTrailingSlash(string url) => url.EndsWith('/') ? url[..^1] : url;
}
