using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Portal.Data.Audit;

/// <summary>A place outside the database where each signed head is also kept.</summary>
public interface IAuditHeadAnchor
{
    string Name { get; }
    Task WriteAsync(AuditSignedHead head, CancellationToken ct);
}

/// <summary>
/// The default anchor: one JSON line per head appended to a file of its own (Audit:AnchorFile), opened with O_APPEND so
/// every write lands at the end whatever else holds the file; give the app's user append rights only (chattr +a, or a
/// log shipper) and the database's owner none. verify-audit reads it back (<see cref="AuditHeadLine.ReadNewest"/>).
/// </summary>
public sealed class AuditAnchorFile(string path) : IAuditHeadAnchor
{
    private readonly SemaphoreSlim _turn = new(1, 1);
    public string Path { get; } = System.IO.Path.GetFullPath(path);
    public string Name => $"file {Path}";

    public async Task WriteAsync(AuditSignedHead head, CancellationToken ct)
    {
        var line = Encoding.UTF8.GetBytes(AuditHeadLine.Format(head) + "\n");
        await _turn.WaitAsync(ct);
        try
        {
            await using var file = OpenAppendOnly(Path);
            await file.WriteAsync(line, ct);
            await file.FlushAsync(ct);
            if (file is FileStream fs) fs.Flush(flushToDisk: true);
        }
        finally { _turn.Release(); }
    }

    /// <summary>O_WRONLY|O_APPEND|O_CREAT (mode 0640) on Linux: .NET's FileMode.Append only seeks to the end once.</summary>
    internal static Stream OpenAppendOnly(string path)
    {
        if (!OperatingSystem.IsLinux()) return new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        const int O_WRONLY = 0x1, O_CREAT = 0x40, O_APPEND = 0x400, O_CLOEXEC = 0x80000;
        var fd = Open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, Convert.ToInt32("640", 8));
        if (fd < 0) throw new IOException($"Cannot open the audit anchor file {path} for appending (errno {Marshal.GetLastPInvokeError()}).");
        return new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Write, bufferSize: 0);
    }

#pragma warning disable SYSLIB1054 // LibraryImport would need unsafe code in this project for one call
    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mode);
#pragma warning restore SYSLIB1054
}
