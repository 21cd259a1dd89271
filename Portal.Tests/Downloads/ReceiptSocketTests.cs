using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.App.Downloads;
using Portal.App.Hosting;
using Portal.Data.Audit;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Downloads;

/// <summary>
/// Issue #25: receipts were plain UDP, and a forged one from loopback was stored and freed a download slot. Now they
/// arrive over a unix datagram socket that only the app's user and nginx's group (www-data here) may write to; only
/// the first receipt per event counts.
/// </summary>
public sealed class ReceiptSocketTests : IAsyncLifetime
{
    private readonly SqliteTestDatabase database = new();
    private readonly string socketPath = Path.Combine(TestEnvironment.NewTempFolder("receipts"), "receipts.sock");
    private PortalHost host = null!;

    public Task InitializeAsync()
    {
        host = new PortalHost(database, DeliveryMode.XAccel, settings: new Dictionary<string, string?>
        {
            ["Delivery:ReceiptSocket"] = socketPath, ["Delivery:ReceiptSocketGroup"] = "www-data",
        });
        _ = host.Services; // starts the listener
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        await database.DisposeAsync();
    }

    private Task<long> AllowedDownloadAsync() => host.Services.GetRequiredService<AuditLog>().AppendAsync(
        new AuditEvent { Action = AuditAction.DocumentDownloaded, Outcome = AuditOutcome.Allowed, DocumentId = Guid.NewGuid() });

    private static string Receipt(long auditId, int bytes) =>
        $$"""<190>Dec  7 12:00:00 portal_receipt: {"audit":"{{auditId}}","status":200,"bytes":{{bytes}},"seconds":"0.010","completion":"OK","range":""}""";

    /// <summary>Sends one datagram to the socket as <paramref name="user"/> (python3's socket module); the exit code.</summary>
    private async Task<(int ExitCode, string Error)> SendAsAsync(string user, string datagram)
    {
        var script = $"import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(sys.argv[1].encode(), sys.argv[2])";
        using var process = Process.Start(new ProcessStartInfo("runuser", ["-u", user, "--", "/usr/bin/python3", "-c", script, datagram, socketPath])
        {
            RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
        })!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, error);
    }

    [Fact]
    public async Task The_socket_file_is_the_apps_user_and_nginxs_group_only()
    {
        var mode = File.GetUnixFileMode(socketPath);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupWrite, mode);
        Assert.Equal(socketPath, host.Services.GetRequiredService<DeliveryReceiptListener>().SocketPath);
    }

    [Fact]
    public async Task A_forged_receipt_sent_by_another_local_user_is_not_accepted()
    {
        var id = await AllowedDownloadAsync();

        var forged = await SendAsAsync("nobody", Receipt(id, 1));
        Assert.NotEqual(0, forged.ExitCode);
        Assert.Contains("Permission denied", forged.Error);

        // nginx's group may send: its receipt is the one stored.
        var genuine = await SendAsAsync("www-data", Receipt(id, 4096));
        Assert.True(genuine.ExitCode == 0, genuine.Error);
        var stored = await host.ReceiptAsync(id);
        Assert.Equal(4096, stored.BytesSent);
    }

    [Fact]
    public async Task A_second_receipt_for_an_event_is_logged_not_stored()
    {
        var id = await AllowedDownloadAsync();
        var released = 0;
        host.Services.GetRequiredService<DeliveryReceiptListener>().ReceiptStored += r => { if (r.AuditEventId == id) Interlocked.Increment(ref released); };
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        var to = new UnixDomainSocketEndPoint(socketPath);
        await socket.SendToAsync(Encoding.UTF8.GetBytes(Receipt(id, 100)), SocketFlags.None, to);
        Assert.Equal(100, (await host.ReceiptAsync(id)).BytesSent);

        await socket.SendToAsync(Encoding.UTF8.GetBytes(Receipt(id, 999)), SocketFlags.None, to);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!host.Logs.ToString().Contains($"Ignored a second delivery receipt for audit event {id}") && DateTime.UtcNow < deadline) await Task.Delay(50);

        Assert.Contains($"Ignored a second delivery receipt for audit event {id}", host.Logs.ToString());
        var all = await host.WithDbAsync(db => db.DeliveryReceipts.Where(r => r.AuditEventId == id).ToListAsync());
        Assert.Equal(100, Assert.Single(all).BytesSent);
        Assert.Equal(1, released); // the duplicate frees no second download slot
    }
}
