using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Portal.App.Hosting;
using Portal.Data;
using Portal.Data.Audit;
using Portal.Data.Database;
using Portal.Data.Downloads;

namespace Portal.App.Downloads;

/// <summary>
/// Receives nginx's record of each internal transfer (syslog over UDP on loopback, see ops/nginx) and stores
/// it as the delivery receipt of the audit event that allowed it: completed, aborted at N bytes, or a range.
/// Only datagrams from loopback or a known proxy are read, and only records naming an allowed download count.
/// </summary>
public sealed partial class DeliveryReceiptListener(
    PortalSettings settings, IDbContextFactory<PortalDbContext> contexts, DatabaseWriteGate writeGate, TimeProvider clock,
    IConfiguration config, ILogger<DeliveryReceiptListener> log) : BackgroundService
{
    private UdpClient? _udp;

    /// <summary>The bound endpoint once listening (the port may have been 0 in the setting).</summary>
    public IPEndPoint? LocalEndpoint => (IPEndPoint?)_udp?.Client.LocalEndPoint;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (settings.ReceiptListen is { } endpoint)
        {
            _udp = new UdpClient(endpoint);
            log.LogInformation("Listening for nginx delivery receipts on udp://{Endpoint}", LocalEndpoint);
        }
        return base.StartAsync(cancellationToken);
    }

    private readonly System.Threading.Channels.Channel<DeliveryReceipt> _received =
        System.Threading.Channels.Channel.CreateUnbounded<DeliveryReceipt>(new() { SingleReader = true });

    /// <summary>A receipt the app wrote itself (Direct delivery), stored like nginx's.</summary>
    public void Submit(DeliveryReceipt receipt) => _received.Writer.TryWrite(receipt);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Receiving and storing run apart: storing batches whatever has arrived into one transaction, so a
        // burst of downloads costs a few commits, not one per receipt (SQLite has a single writer).
        var storing = StoreBatchesAsync(stoppingToken);
        if (_udp is not null) await ReceiveAsync(_udp, stoppingToken);
        else await Task.Delay(Timeout.Infinite, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        _received.Writer.TryComplete();
        await storing;
    }

    private async Task ReceiveAsync(UdpClient udp, CancellationToken stoppingToken)
    {
        var trusted = TrustedSources();
        while (!stoppingToken.IsCancellationRequested)
        {
            UdpReceiveResult datagram;
            try { datagram = await udp.ReceiveAsync(stoppingToken); }
            catch (OperationCanceledException) { break; }
            catch (SocketException e) { log.LogWarning(e, "Receipt socket error"); continue; }

            if (!IPAddress.IsLoopback(datagram.RemoteEndPoint.Address) && !trusted.Contains(datagram.RemoteEndPoint.Address))
            {
                log.LogWarning("Ignored a delivery receipt from untrusted {Source}", datagram.RemoteEndPoint.Address);
                continue;
            }
            var text = Encoding.UTF8.GetString(datagram.Buffer);
            if (NginxError(text) is { } message) log.LogWarning("nginx: {Message}", message);
            else if (Parse(text) is { } receipt) _received.Writer.TryWrite(receipt);
        }
    }

    private const string NginxErrorTag = " portal_nginx: ";

    /// <summary>
    /// An error message nginx sent here instead of to its error log (tag portal_nginx, see ops/nginx), with every
    /// query string cut off: in the S3 locations the upstream URL nginx names is a presigned URL, whose query is the
    /// key to the object. Null when the datagram is not one.
    /// </summary>
    internal static string? NginxError(string text)
    {
        var tag = text.IndexOf(NginxErrorTag, StringComparison.Ordinal);
        if (tag < 0 || tag > 40) return null; // "<pri>Mmm dd hh:mm:ss portal_nginx: …"
        return QueryString().Replace(text[(tag + NginxErrorTag.Length)..].TrimEnd(), "?…");
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\?[^\s""]*")]
    private static partial System.Text.RegularExpressions.Regex QueryString();

    private async Task StoreBatchesAsync(CancellationToken stoppingToken)
    {
        var batch = new List<DeliveryReceipt>();
        while (await _received.Reader.WaitToReadAsync(CancellationToken.None))
        {
            // Let a busy moment's receipts gather: one commit for many. Under load, storing them one or two at a time
            // cost about a tenth of a millisecond of CPU per download; nothing waits on a receipt but the person's
            // download slot, which this delays by as much.
            if (!stoppingToken.IsCancellationRequested) await Task.Delay(GatherFor, CancellationToken.None);
            batch.Clear();
            while (batch.Count < 500 && _received.Reader.TryRead(out var next)) batch.Add(next);
            try { await StoreAsync(batch, stoppingToken); }
            catch (Exception e) when (e is not OperationCanceledException) { log.LogError(e, "Could not store {Count} delivery receipts", batch.Count); }
        }
    }

    /// <summary>How long the first receipt of a batch waits for others.</summary>
    private static readonly TimeSpan GatherFor = TimeSpan.FromMilliseconds(20);

    private HashSet<IPAddress> TrustedSources() =>
        (config["ForwardedHeaders:KnownProxies"] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(IPAddress.Parse).ToHashSet();

    /// <summary>
    /// A syslog line "&lt;pri&gt;… portal_receipt: {json}" from ops/nginx's portal_receipt log_format, or null when
    /// it is not one (no JSON, no audit id: e.g. a direct request to the internal location, which has no upstream).
    /// </summary>
    internal DeliveryReceipt? Parse(string text)
    {
        var start = text.IndexOf('{');
        if (start < 0) return null;
        try
        {
            using var json = JsonDocument.Parse(text[start..]);
            var root = json.RootElement;
            if (!long.TryParse(root.GetProperty("audit").GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var auditId)) return null;
            var seconds = double.Parse(root.GetProperty("seconds").GetString() ?? "0", CultureInfo.InvariantCulture);
            var range = root.GetProperty("range").GetString();
            return new DeliveryReceipt
            {
                AuditEventId = auditId,
                Status = root.GetProperty("status").GetInt32(),
                BytesSent = root.GetProperty("bytes").GetInt64(),
                Completed = root.GetProperty("completion").GetString() == "OK",
                DurationMs = (int)Math.Min(int.MaxValue, Math.Round(seconds * 1000)),
                Range = string.IsNullOrEmpty(range) ? null : range[..Math.Min(range.Length, 200)],
                ReceivedAt = clock.GetUtcNow(),
            };
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            log.LogWarning("Ignored a malformed delivery receipt");
            return null;
        }
    }

    private async Task StoreAsync(List<DeliveryReceipt> receipts, CancellationToken ct)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var ids = receipts.Select(r => r.AuditEventId).Distinct().ToList();
        var allowed = (await db.AuditEvents
            .Where(e => ids.Contains(e.Id) && (e.Action == AuditAction.DocumentDownloaded || e.Action == AuditAction.DocumentViewed)
                        && e.Outcome == AuditOutcome.Allowed)
            .Select(e => e.Id).ToListAsync(ct)).ToHashSet();
        var kept = receipts.Where(r => allowed.Contains(r.AuditEventId)).ToList();
        foreach (var ignored in receipts.Except(kept))
            log.LogWarning("Ignored a delivery receipt for audit event {AuditEventId}, which allowed no download", ignored.AuditEventId);
        if (kept.Count == 0) return;
        using (await writeGate.EnterAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            await RowInsert<DeliveryReceipt>.For(db).InsertAsync(db, kept, ct);
            await tx.CommitAsync(ct);
        }
        foreach (var r in kept) ReceiptStored?.Invoke(r);
    }

    /// <summary>Raised after a receipt is stored (the per-user download slots are released on it).</summary>
    public event Action<DeliveryReceipt>? ReceiptStored;

    public override void Dispose()
    {
        _udp?.Dispose();
        base.Dispose();
    }
}
