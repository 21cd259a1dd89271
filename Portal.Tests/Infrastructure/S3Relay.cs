using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// A relay on a free loopback port in front of the run's real S3 server: it forwards every request unchanged
/// (Host included, so signatures stay valid) and can act out what radosgw itself does not: answer a presigned
/// GET first with a 307 to the same URL (as S3 does when a bucket lives elsewhere), or hold GETs back so a
/// short-lived presigned URL has expired when it reaches the server.
/// </summary>
public sealed class S3Relay : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _upstream = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
    private readonly HashSet<string> _redirected = [];
    private int _redirects, _presignedGets;

    private S3Relay(WebApplication app) => _app = app;

    public Uri Address { get; private set; } = null!;
    /// <summary>Answer the first GET of each presigned URL with 307 Temporary Redirect to itself.</summary>
    public bool RedirectFirstGet { get; set; }
    /// <summary>Hold each presigned GET back this long before forwarding it.</summary>
    public TimeSpan DelayGets { get; set; }
    public int Redirects => _redirects;
    public int PresignedGets => _presignedGets;

    public static async Task<S3Relay> StartAsync(string target)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // Port 0: the kernel's free port is ours from the start (one picked beforehand could be taken meanwhile).
        builder.WebHost.UseKestrel(o => { o.Listen(IPAddress.Loopback, 0); o.Limits.MaxRequestBodySize = null; });
        var app = builder.Build();
        var relay = new S3Relay(app);
        var targetUri = new Uri(target);
        app.Run(http => relay.ForwardAsync(http, targetUri));
        await app.StartAsync();
        relay.Address = new Uri(app.Urls.Single());
        return relay;
    }

    private async Task ForwardAsync(HttpContext http, Uri target)
    {
        // Exactly as received: the signature covers the path and query as the client encoded them.
        var pathAndQuery = http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget;
        var presigned = http.Request.Query.ContainsKey("X-Amz-Signature") && HttpMethods.IsGet(http.Request.Method);
        if (presigned)
        {
            Interlocked.Increment(ref _presignedGets);
            if (RedirectFirstGet)
            {
                bool first;
                lock (_redirected) first = _redirected.Add(pathAndQuery);
                if (first)
                {
                    Interlocked.Increment(ref _redirects);
                    http.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
                    http.Response.Headers.Location = $"{Address.GetLeftPart(UriPartial.Authority)}{pathAndQuery}";
                    return;
                }
            }
            if (DelayGets > TimeSpan.Zero) await Task.Delay(DelayGets);
        }

        using var request = new HttpRequestMessage(new HttpMethod(http.Request.Method),
            new Uri(target.GetLeftPart(UriPartial.Authority) + pathAndQuery, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true }));
        // Also for an empty body: its Content-Type may be signed.
        if (http.Request.ContentLength is not null || http.Request.Headers.TransferEncoding.Count > 0 || http.Request.Headers.ContentType.Count > 0)
            request.Content = new StreamContent(http.Request.Body);
        foreach (var (name, values) in http.Request.Headers)
        {
            if (name is "Connection" or "Transfer-Encoding" or "Keep-Alive" or "Expect") continue;
            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values)) request.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values);
        }
        using var response = await _upstream.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, http.RequestAborted);
        http.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            if (name is not ("Transfer-Encoding" or "Connection" or "Keep-Alive")) http.Response.Headers[name] = values.ToArray();
        await response.Content.CopyToAsync(http.Response.Body, http.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _upstream.Dispose();
    }
}
