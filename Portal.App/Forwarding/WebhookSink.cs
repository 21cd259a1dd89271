using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Portal.Data.Audit;

namespace Portal.App.Forwarding;

/// <summary>
/// POSTs batches as JSON (<c>{"events":[…]}</c>) to an https URL. Header <see cref="SignatureHeader"/> carries
/// "sha256=" and the hex HMAC-SHA256 of the exact body bytes under the configured secret; a 2xx answer means the
/// receiver has the batch, anything else (or no answer) is retried.
/// </summary>
public sealed class WebhookSink : IEventSink
{
    public const string SignatureHeader = "X-Portal-Signature";
    private readonly SinkSettings _sink;
    private readonly HttpClient _http;
    private readonly byte[] _key;

    public WebhookSink(SinkSettings sink)
    {
        _sink = sink;
        _key = Encoding.UTF8.GetBytes(sink.Options.Secret!);
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (SinkTrust.For(sink.TrustedCa) is { } check) handler.SslOptions.RemoteCertificateValidationCallback = check;
        _http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }

    public static string Sign(byte[] key, ReadOnlySpan<byte> body) => "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(key, body));

    public async Task SendAsync(IReadOnlyList<AuditEvent> events, CancellationToken ct)
    {
        if (events.Count == 0) return;
        using var body = new MemoryStream();
        body.Write("{\"events\":["u8);
        for (var i = 0; i < events.Count; i++)
        {
            if (i > 0) body.WriteByte((byte)',');
            body.Write(ForwardedEvent.ToJsonUtf8(events[i]));
        }
        body.Write("]}"u8);
        var bytes = body.ToArray();
        using var request = new HttpRequestMessage(HttpMethod.Post, _sink.Url) { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add(SignatureHeader, Sign(_key, bytes));
        request.Headers.Add("X-Portal-Events", $"{events[0].Id}-{events[^1].Id}");
        using var response = await _http.SendAsync(request, ct);
        // The status only: the receiver's body is not ours to log.
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"the webhook answered {(int)response.StatusCode} {response.ReasonPhrase}");
    }

    public long Confirmed(long sentUpTo) => sentUpTo;
    public TimeSpan? ConfirmDueIn => null;
    public Task ResetAsync() => Task.CompletedTask;

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }
}
