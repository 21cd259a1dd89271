using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// A real OpenID Connect provider (oidc-provider from npm, Portal.Tests/Oidc/provider.mjs) behind a pass-through
/// proxy. The proxy's URL is the issuer, so browsers, the app and the tokens all agree; a test can make the proxy
/// tamper with the id_token in the token response (re-signed with the provider's own key, held by the test) to
/// check that the app refuses it for exactly that reason.
/// </summary>
public sealed partial class OidcProvider : IAsyncDisposable
{
    public const string ClientId = "portal";
    public const string ClientSecret = "portal-test-secret";

    private readonly string _folder = TestEnvironment.NewTempFolder("oidc");
    private int _providerPort;
    private Uri? _portal;
    private Process? _node;
    private WebApplication? _proxy;
    private readonly StringBuilder _output = new();

    public Uri Issuer { get; private set; } = null!;
    public RSA SigningKey { get; private set; } = RSA.Create(2048);
    public string SigningKid { get; private set; } = "key-1";

    /// <summary>Rewrites the id_token of the next token responses: (header, payload) → what to send. Null: pass through.</summary>
    public Func<JsonObject, JsonObject, string>? TamperIdToken { get; set; }

    private OidcProvider() { }

    /// <summary>Starts the proxy, so the issuer URL is known (the app needs it at start); then <see cref="StartAsync"/>.</summary>
    public static async Task<OidcProvider> CreateAsync()
    {
        var provider = new OidcProvider();
        await provider.StartProxyAsync();
        return provider;
    }

    /// <summary>Starts the provider for the portal at <paramref name="portal"/> (its redirect and logout URIs).</summary>
    public Task StartAsync(Uri portal)
    {
        _portal = portal;
        return StartNodeAsync();
    }

    /// <summary>The app settings that point the portal at this provider.</summary>
    public Dictionary<string, string?> PortalSettings() => new()
    {
        ["Oidc:Authority"] = Issuer.ToString().TrimEnd('/'),
        ["Oidc:ClientId"] = ClientId,
        ["Oidc:ClientSecret"] = ClientSecret,
        ["Oidc:RoleMap:portal-admins"] = "Admin",
        ["Oidc:RoleMap:staff"] = "Staff",
        ["Oidc:RoleMap:compliance"] = "ComplianceOfficer",
    };

    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>Restarts the provider with a new signing key (a new kid): what a provider's key rotation looks like.</summary>
    public async Task RotateKeyAsync()
    {
        await StopNodeAsync();
        SigningKey = RSA.Create(2048);
        SigningKid = "key-" + Guid.NewGuid().ToString("N")[..8];
        await StartNodeAsync();
    }

    /// <summary>Stops the provider; its issuer URL (the proxy) then answers 502 until <see cref="StartAgainAsync"/>.</summary>
    public Task StopAsync() => StopNodeAsync();

    /// <summary>Starts the stopped provider again, with the same key.</summary>
    public Task StartAgainAsync() => StartNodeAsync();

    /// <summary>Signs a JWT with the provider's current key (or another one), as the provider would.</summary>
    public string Sign(JsonObject header, JsonObject payload, RSA? key = null)
    {
        var signingInput = $"{B64(header.ToJsonString())}.{B64(payload.ToJsonString())}";
        var signature = (key ?? SigningKey).SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return $"{signingInput}.{Base64Url(signature)}";
    }

    public static string B64(string json) => Base64Url(Encoding.UTF8.GetBytes(json));
    public static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static (JsonObject Header, JsonObject Payload) Decode(string jwt)
    {
        var parts = jwt.Split('.');
        return (JsonNode.Parse(FromBase64Url(parts[0]))!.AsObject(), JsonNode.Parse(FromBase64Url(parts[1]))!.AsObject());
    }

    private static byte[] FromBase64Url(string s)
    {
        s = s.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + (4 - s.Length % 4) % 4, '='));
    }

    private async Task StartNodeAsync()
    {
        var keysFile = Path.Combine(_folder, "keys.json");
        var p = SigningKey.ExportParameters(includePrivateParameters: true);
        var jwk = new JsonObject
        {
            ["kty"] = "RSA", ["kid"] = SigningKid, ["use"] = "sig", ["alg"] = "RS256",
            ["n"] = Base64Url(p.Modulus!), ["e"] = Base64Url(p.Exponent!), ["d"] = Base64Url(p.D!),
            ["p"] = Base64Url(p.P!), ["q"] = Base64Url(p.Q!), ["dp"] = Base64Url(p.DP!), ["dq"] = Base64Url(p.DQ!), ["qi"] = Base64Url(p.InverseQ!),
        };
        await File.WriteAllTextAsync(keysFile, new JsonArray(jwk).ToJsonString());

        var folder = ProviderFolder();
        var start = new ProcessStartInfo("node", [Path.Combine(folder, "provider.mjs")])
        {
            WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        // Port 0: node binds a free port and names it in its ready line. (A port picked here and handed over could be
        // taken by another test's server in between, and the app would then talk to that one.)
        start.Environment["OIDC_PORT"] = "0";
        start.Environment["OIDC_ISSUER"] = Issuer.ToString().TrimEnd('/');
        start.Environment["OIDC_KEYS_FILE"] = keysFile;
        start.Environment["PORTAL_URL"] = _portal!.ToString().TrimEnd('/');
        var ready = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        _node = Process.Start(start)!;
        _node.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_output) _output.AppendLine(e.Data);
            if (ReadyLine().Match(e.Data) is { Success: true } m) ready.TrySetResult(int.Parse(m.Groups["port"].Value));
        };
        _node.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        _node.Exited += (_, _) => ready.TrySetException(new InvalidOperationException($"The OIDC provider exited:\n{Output}"));
        _node.EnableRaisingEvents = true;
        _node.BeginOutputReadLine();
        _node.BeginErrorReadLine();
        try
        {
            _providerPort = await ready.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The OIDC provider did not start within 30 s:\n{Output}");
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^oidc-provider ready on .* \(port (?<port>\d+)\)$")]
    private static partial System.Text.RegularExpressions.Regex ReadyLine();

    private static string ProviderFolder()
    {
        if (Environment.GetEnvironmentVariable("PORTAL_TEST_OIDC_DIR") is { Length: > 0 } configured) return configured;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "Portal.Tests", "Oidc");
            if (File.Exists(Path.Combine(candidate, "provider.mjs"))) return candidate;
        }
        throw new InvalidOperationException("Portal.Tests/Oidc/provider.mjs not found: run the tests with ./test.sh.");
    }

    /// <summary>Forwards every request to the provider as is; only the token response may be changed.</summary>
    private async Task StartProxyAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _proxy = builder.Build();
        var upstream = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
        _proxy.Run(async context =>
        {
            using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method),
                $"http://127.0.0.1:{_providerPort}{context.Request.Path}{context.Request.QueryString}");
            if (context.Request.ContentLength > 0 || context.Request.Headers.ContainsKey("Transfer-Encoding"))
            {
                var body = new MemoryStream();
                await context.Request.Body.CopyToAsync(body);
                request.Content = new ByteArrayContent(body.ToArray());
            }
            foreach (var (name, values) in context.Request.Headers)
            {
                if (name is "Host" or "Content-Length") continue;
                if (!request.Headers.TryAddWithoutValidation(name, values.ToArray())) request.Content?.Headers.TryAddWithoutValidation(name, values.ToArray());
            }
            request.Headers.TryAddWithoutValidation("X-Forwarded-Host", context.Request.Host.Value);
            request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "http");
            HttpResponseMessage response;
            try { response = await upstream.SendAsync(request); }
            catch (HttpRequestException)
            {
                // The provider is stopped: what a reverse proxy in front of it answers.
                context.Response.StatusCode = StatusCodes.Status502BadGateway;
                return;
            }
            using var _ = response;
            var content = await response.Content.ReadAsByteArrayAsync();
            if (context.Request.Path == "/token" && response.IsSuccessStatusCode && TamperIdToken is { } tamper)
            {
                var json = JsonNode.Parse(content)!.AsObject();
                var (header, payload) = Decode(json["id_token"]!.GetValue<string>());
                json["id_token"] = tamper(header, payload);
                content = Encoding.UTF8.GetBytes(json.ToJsonString());
            }
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                if (name is "Transfer-Encoding" or "Content-Length" or "Connection" or "Keep-Alive") continue;
                context.Response.Headers[name] = values.ToArray();
            }
            await context.Response.Body.WriteAsync(content);
        });
        await _proxy.StartAsync();
        // The issuer is the proxy's address, bound by Kestrel to a free port.
        Issuer = new Uri(_proxy.Urls.Single());
    }

    private async Task StopNodeAsync()
    {
        if (_node is null) return;
        if (!_node.HasExited)
        {
            _node.Kill(entireProcessTree: true);
            await _node.WaitForExitAsync();
        }
        _node.Dispose();
        _node = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopNodeAsync();
        if (_proxy is not null) await _proxy.DisposeAsync();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }
}
