using System.Diagnostics;
using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Portal.Data.Audit;

namespace Portal.App.Forwarding;

/// <summary>
/// RFC 5424 messages over TCP (TLS when configured) with RFC 6587 octet-counting framing ("LEN SP MSG"). The message
/// carries the event's id and hash as structured data and the whole event as JSON. TCP never tells the sender what the
/// receiver read, so an event counts as delivered only once the connection stayed open <see cref="SinkOptions.SettleSeconds"/>
/// after it was sent (a receiver reads at once); if the connection breaks first, it is sent again: a repeat is possible,
/// a gap is not.
/// </summary>
public sealed class SyslogSink(SinkSettings sink) : IEventSink
{
    /// <summary>Our private enterprise number stand-in in the SD-ID (RFC 5424 §7.2.2 reserves 32473 for examples).</summary>
    private const string StructuredDataId = "portal@32473";
    private const int FacilityLogAudit = 13;

    private static readonly string Host = SafeToken(Environment.MachineName, 255);
    private static readonly string ProcId = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    private TcpClient? _tcp;
    private Stream? _stream;
    private volatile bool _closed;
    private readonly Queue<(long LastId, long SentAt)> _unsettled = new();
    private readonly TimeSpan _settle = TimeSpan.FromSeconds(sink.Options.SettleSeconds);

    public async Task SendAsync(IReadOnlyList<AuditEvent> events, CancellationToken ct)
    {
        if (events.Count == 0) return;
        var stream = await ConnectAsync(ct);
        using var buffer = new MemoryStream();
        foreach (var e in events)
        {
            var message = Format(e);
            var length = Encoding.ASCII.GetBytes(message.Length.ToString(CultureInfo.InvariantCulture) + " ");
            buffer.Write(length);
            buffer.Write(message);
        }
        await stream.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), ct);
        await stream.FlushAsync(ct);
        if (_closed) throw new IOException("the syslog receiver closed the connection");
        _unsettled.Enqueue((events[^1].Id, Stopwatch.GetTimestamp()));
    }

    public long Confirmed(long sentUpTo)
    {
        if (_closed) throw new IOException("the syslog receiver closed the connection");
        long confirmed = -1;
        while (_unsettled.TryPeek(out var next) && Stopwatch.GetElapsedTime(next.SentAt) >= _settle)
            confirmed = _unsettled.Dequeue().LastId;
        if (_unsettled.Count == 0) return sentUpTo;
        return confirmed; // -1: nothing more yet
    }

    public TimeSpan? ConfirmDueIn => _unsettled.TryPeek(out var next) ? _settle - Stopwatch.GetElapsedTime(next.SentAt) : null;

    /// <summary>"&lt;PRI&gt;1 TIMESTAMP HOST portal PROCID ACTION [portal@32473 id=".." hash=".."] {json}".</summary>
    internal static byte[] Format(AuditEvent e)
    {
        var severity = e.Action == AuditAction.AlertRaised ? 2 : e.Outcome == AuditOutcome.Denied ? 4 : 6; // critical, warning, info
        var header = string.Create(CultureInfo.InvariantCulture,
            $"<{FacilityLogAudit * 8 + severity}>1 {e.OccurredAt.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'} {Host} portal {ProcId} {e.Action} " +
            $"[{StructuredDataId} id=\"{e.Id}\" hash=\"{e.Hash}\" prev=\"{e.PreviousHash}\"] ");
        return [.. Encoding.ASCII.GetBytes(header), .. ForwardedEvent.ToJsonUtf8(e)];
    }

    private async Task<Stream> ConnectAsync(CancellationToken ct)
    {
        if (_stream is not null) return _stream;
        var address = sink.Address!;
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            await tcp.ConnectAsync(address.Host, address.Port, timeout.Token);
            Stream stream = tcp.GetStream();
            if (sink.Options.Tls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false, SinkTrust.For(sink.TrustedCa));
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = string.IsNullOrEmpty(sink.Options.ServerName) ? address.Host : sink.Options.ServerName,
                }, timeout.Token);
                stream = ssl;
            }
            _tcp = tcp;
            _stream = stream;
            _closed = false;
            _unsettled.Clear();
            _ = WatchForCloseAsync(stream);
            return stream;
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>A syslog receiver never sends data: a read that ends means it closed the connection (or it broke).</summary>
    private async Task WatchForCloseAsync(Stream stream)
    {
        var buffer = new byte[256];
        try
        {
            while (await stream.ReadAsync(buffer) > 0) { }
        }
        catch (Exception) { /* broken: as closed */ }
        if (ReferenceEquals(stream, _stream)) _closed = true;
    }

    public async Task ResetAsync()
    {
        var stream = _stream;
        _stream = null;
        _unsettled.Clear();
        if (stream is not null) try { await stream.DisposeAsync(); } catch (Exception) { }
        _tcp?.Dispose();
        _tcp = null;
    }

    public async ValueTask DisposeAsync() => await ResetAsync();

    /// <summary>RFC 5424 header fields are printable ASCII without spaces.</summary>
    private static string SafeToken(string value, int max)
    {
        var chars = value.Where(c => c is > ' ' and < (char)127).Take(max).ToArray();
        return chars.Length == 0 ? "-" : new string(chars);
    }
}
