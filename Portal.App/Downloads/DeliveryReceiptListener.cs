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
/// Receives nginx's record of each internal transfer (syslog over a unix datagram socket, Delivery:ReceiptSocket; nginx's
/// `access_log syslog:server=unix:/path`, see ops/nginx) and stores it as the delivery receipt of the audit event that
/// allowed it: completed, aborted at N bytes, or a range. The socket file is the app user's, mode 0600, or 0620 with
/// Delivery:ReceiptSocketGroup (nginx's group): no other local user can send a receipt (UDP, which any local process
/// could send to, is gone). Only records naming an allowed download count, and only the first receipt per event: a
/// second one is logged, not stored, and frees nothing.
/// </summary>
public sealed partial class DeliveryReceiptListener(
    PortalSettings settings, IDbContextFactory<PortalDbContext> contexts, DatabaseWriteGate writeGate, TimeProvider clock,
    IConfiguration config, ILogger<DeliveryReceiptListener> log) : BackgroundService
{
    private Socket? _socket;

    /// <summary>The socket file once listening.</summary>
    public string? SocketPath { get; private set; }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (settings.ReceiptListen is not null)
            throw new StartupException("Delivery:ReceiptListen (UDP) is no longer supported: any local process could send receipts to it. " +
                                       "Set Delivery:ReceiptSocket to a unix socket path and point nginx at it (syslog:server=unix:/path).");
        if (config["Delivery:ReceiptSocket"] is { Length: > 0 } path)
        {
            _socket = ReceiptSocket.Bind(path, config["Delivery:ReceiptSocketGroup"]);
            SocketPath = Path.GetFullPath(path);
            log.LogInformation("Listening for nginx delivery receipts on unix:{Path}", SocketPath);
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
        if (_socket is not null) await ReceiveAsync(_socket, stoppingToken);
        else await Task.Delay(Timeout.Infinite, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        _received.Writer.TryComplete();
        await storing;
    }

    private async Task ReceiveAsync(Socket socket, CancellationToken stoppingToken)
    {
        var buffer = new byte[16 * 1024]; // nginx's syslog lines are at most a few KiB
        while (!stoppingToken.IsCancellationRequested)
        {
            int length;
            try { length = await socket.ReceiveAsync(buffer, SocketFlags.None, stoppingToken); }
            catch (OperationCanceledException) { break; }
            catch (SocketException e) { log.LogWarning(e, "Receipt socket error"); continue; }
            var text = Encoding.UTF8.GetString(buffer, 0, length);
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
            // Only the first receipt per event counts: one already stored, or an earlier one in this batch, wins.
            var keptIds = kept.Select(r => r.AuditEventId).ToList();
            var stored = (await db.DeliveryReceipts.Where(r => keptIds.Contains(r.AuditEventId)).Select(r => r.AuditEventId).ToListAsync(ct)).ToHashSet();
            var first = new List<DeliveryReceipt>(kept.Count);
            foreach (var r in kept)
                if (stored.Add(r.AuditEventId)) first.Add(r);
                else log.LogWarning("Ignored a second delivery receipt for audit event {AuditEventId} (status {Status}, {Bytes} bytes)", r.AuditEventId, r.Status, r.BytesSent);
            kept = first;
            if (kept.Count > 0) await RowInsert<DeliveryReceipt>.For(db).InsertAsync(db, kept, ct);
            await tx.CommitAsync(ct);
        }
        foreach (var r in kept) ReceiptStored?.Invoke(r);
    }

    /// <summary>Raised after a receipt is stored (the per-user download slots are released on it).</summary>
    public event Action<DeliveryReceipt>? ReceiptStored;

    public override void Dispose()
    {
        _socket?.Dispose();
        if (SocketPath is not null) try { File.Delete(SocketPath); } catch (IOException) { }
        base.Dispose();
    }
}

/// <summary>The receipt socket: a unix datagram socket only the app's user (and nginx's group, if named) may write to.</summary>
internal static class ReceiptSocket
{
    public static Socket Bind(string path, string? group)
    {
        if (OperatingSystem.IsWindows()) throw new StartupException("Delivery:ReceiptSocket needs a unix host (nginx's syslog:server=unix:).");
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        if (File.Exists(full)) File.Delete(full); // a stale socket from a previous run
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(full));
            // Writing to a unix socket needs write permission on its file: the owner, and nginx's group if named.
            var mode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            if (!string.IsNullOrWhiteSpace(group))
            {
                var gid = GroupId(group);
                if (Chown(full, -1, gid) != 0)
                    throw new StartupException($"Cannot give the receipt socket {full} to group {group} (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}).");
                mode |= UnixFileMode.GroupWrite;
            }
            File.SetUnixFileMode(full, mode);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A group by number or by name (from /etc/group).</summary>
    private static int GroupId(string group)
    {
        if (int.TryParse(group, NumberStyles.None, CultureInfo.InvariantCulture, out var gid)) return gid;
        foreach (var line in File.ReadLines("/etc/group"))
        {
            var fields = line.Split(':');
            if (fields.Length > 2 && fields[0] == group) return int.Parse(fields[2], CultureInfo.InvariantCulture);
        }
        throw new StartupException($"Delivery:ReceiptSocketGroup: no group '{group}' on this host.");
    }

#pragma warning disable SYSLIB1054 // one call; LibraryImport would need unsafe code in this project
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "chown", SetLastError = true)]
    private static extern int Chown([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string path, int owner, int group);
#pragma warning restore SYSLIB1054
}
