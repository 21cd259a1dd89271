using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Portal.Data.Downloads;

namespace Portal.App.Downloads;

/// <summary>
/// In Direct mode the app sends the bytes itself, so it writes the receipt nginx would: status, bytes that left,
/// completed or not, time taken. Counts what goes through the response body, whichever way the file is sent.
/// </summary>
public sealed class DirectDeliveryReceipt : IHttpResponseBodyFeature
{
    private readonly IHttpResponseBodyFeature _inner;
    private readonly CountingStream _stream;
    private DirectDeliveryReceipt(IHttpResponseBodyFeature inner, System.Net.Sockets.Socket? socket)
    {
        _inner = inner;
        _stream = new CountingStream(inner.Stream, socket);
    }

    /// <summary>Starts counting this response and submits the receipt when it has been sent (or abandoned).</summary>
    public static void Track(HttpContext http, long auditEventId, TimeProvider clock, DeliveryReceiptListener receipts)
    {
        // The connection's socket (one per connection, never reused for another): the transport's own word on whether
        // the client is still there. RequestAborted alone is not enough: Kestrel signals it from the thread pool, and
        // once the client has gone, writes return as if they had worked, so a response could finish "complete", or
        // count bytes nobody received, before its RequestAborted fires.
        var socket = http.Features.Get<IConnectionSocketFeature>()?.Socket;
        var counter = new DirectDeliveryReceipt(http.Features.Get<IHttpResponseBodyFeature>()!, socket);
        http.Features.Set<IHttpResponseBodyFeature>(counter);
        var started = clock.GetTimestamp();
        var range = http.Request.Headers.Range.ToString();
        http.Response.OnCompleted(() =>
        {
            var sent = counter._stream.Written;
            var expected = http.Response.ContentLength;
            var clientGone = http.RequestAborted.IsCancellationRequested || TransportFailed(socket);
            receipts.Submit(new DeliveryReceipt
            {
                AuditEventId = auditEventId,
                Status = http.Response.StatusCode,
                BytesSent = sent,
                Completed = !clientGone && (expected is null || sent >= expected),
                DurationMs = (int)Math.Min(int.MaxValue, clock.GetElapsedTime(started).TotalMilliseconds),
                Range = range.Length == 0 ? null : range[..Math.Min(range.Length, 200)],
                ReceivedAt = clock.GetUtcNow(),
            });
            return Task.CompletedTask;
        });
    }

    /// <summary>
    /// A failed send marks the socket disconnected at once (and Kestrel then shuts it down); a client that is still
    /// there, or that hung up only after taking everything, leaves it connected until the response is over.
    /// </summary>
    private static bool TransportFailed(System.Net.Sockets.Socket? socket)
    {
        if (socket is null) return false;
        try { return !socket.Connected; }
        catch (ObjectDisposedException) { return true; }
    }

    public Stream Stream => _stream;
    public PipeWriter Writer => _writer ??= PipeWriter.Create(_stream, new StreamPipeWriterOptions(leaveOpen: true));
    private PipeWriter? _writer;

    public void DisableBuffering() => _inner.DisableBuffering();
    public Task StartAsync(CancellationToken ct = default) => _inner.StartAsync(ct);
    public async Task CompleteAsync()
    {
        if (_writer is not null) await _writer.FlushAsync();
        await _inner.CompleteAsync();
    }

    /// <summary>
    /// The file through the counting stream, a chunk at a time, so the receipt knows how far it got (Kestrel has no
    /// sendfile of its own: its fallback copies the same way). Stops once the client has gone.
    /// </summary>
    public async Task SendFileAsync(string path, long offset, long? count, CancellationToken ct = default)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, useAsync: true);
        file.Seek(offset, SeekOrigin.Begin);
        var left = count ?? file.Length - offset;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (left > 0 && !_stream.ClientGone)
            {
                var read = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), ct);
                if (read == 0) break;
                await _stream.WriteAsync(buffer.AsMemory(0, read), ct);
                left -= read;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Counts the bytes written while the client is still connected; after that nothing reaches anyone.</summary>
    private sealed class CountingStream(Stream inner, System.Net.Sockets.Socket? socket) : Stream
    {
        public long Written;
        public bool ClientGone => TransportFailed(socket);
        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            if (!ClientGone) Written += count;
        }
        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
        {
            await inner.WriteAsync(buffer, ct);
            if (!ClientGone) Written += buffer.Length;
        }
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) => WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();
        public override Task FlushAsync(CancellationToken ct) => inner.FlushAsync(ct);
        public override void Flush() => inner.Flush();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Written; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
