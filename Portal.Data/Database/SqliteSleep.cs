using System.Runtime.InteropServices;

namespace Portal.Data.Database;

/// <summary>
/// The bundled SQLite (SQLitePCLRaw 2.0.6's e_sqlite3, see build/FeedWorkarounds.props) is built without usleep, so
/// its unix VFS rounds every sleep up to whole seconds. SQLite sleeps a few microseconds when a reader finds the WAL
/// index changing under it (walTryBeginRead); under load that became a one-second stall for the download waiting on
/// it (wrk: p99 950 ms, max 1.01 s). This registers, as the default, a copy of the unix VFS whose sleep sleeps for the
/// time asked (to the millisecond). Everything else is the unix VFS's own functions.
/// </summary>
public static class SqliteSleep
{
    private const string Library = "e_sqlite3";
    private const string Name = "unix-portal";

    // sqlite3_vfs (sqlite3.h): three ints, then pointers; xSleep is the 13th pointer.
    private const int PointersStart = 16;
    private const int NextOffset = PointersStart;
    private const int NameOffset = PointersStart + 8;
    private const int SleepOffset = PointersStart + 12 * 8;
    /// <summary>The struct's size by its iVersion: 1 ends after xGetLastError, 2 adds one pointer, 3 adds three.</summary>
    private static int SizeOf(int version) => PointersStart + 8 * (version >= 3 ? 19 : version == 2 ? 16 : 15);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int SleepFunction(IntPtr vfs, int microseconds);

    private static readonly SleepFunction Sleep = (_, microseconds) =>
    {
        Thread.Sleep(Math.Max(1, (microseconds + 999) / 1000));
        return microseconds;
    };

    private static readonly Lazy<bool> Registered = new(Register, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Registers the VFS once (on Linux and macOS, where the unix VFS is used); true when it is the default.</summary>
    public static bool Apply() => Registered.Value;

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    private static extern IntPtr sqlite3_vfs_find([MarshalAs(UnmanagedType.LPUTF8Str)] string? name);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    private static extern int sqlite3_vfs_register(IntPtr vfs, int makeDefault);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    private static extern int sqlite3_sleep(int milliseconds);

    /// <summary>SQLite's own sleep through the default VFS, for the tests: milliseconds asked, microseconds slept.</summary>
    internal static int SleepThroughDefaultVfs(int milliseconds) => sqlite3_sleep(milliseconds);

    /// <summary>The default VFS's name, for the tests.</summary>
    internal static string? DefaultVfsName()
    {
        var vfs = sqlite3_vfs_find(null);
        return vfs == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(vfs, NameOffset));
    }

    private static bool Register()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return false;
        try
        {
            return RegisterCopy();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // another SQLite than the bundled one: its own sleep stays
        }
    }

    private static bool RegisterCopy()
    {
        if (sqlite3_vfs_find(Name) != IntPtr.Zero) return true;
        var unix = sqlite3_vfs_find(null);
        if (unix == IntPtr.Zero) return false;
        var size = SizeOf(Marshal.ReadInt32(unix));
        // Never freed: SQLite keeps using a registered VFS for the life of the process.
        var copy = Marshal.AllocHGlobal(size);
        var bytes = new byte[size];
        Marshal.Copy(unix, bytes, 0, size);
        Marshal.Copy(bytes, 0, copy, size);
        Marshal.WriteIntPtr(copy, NextOffset, IntPtr.Zero);
        Marshal.WriteIntPtr(copy, NameOffset, Marshal.StringToCoTaskMemUTF8(Name));
        Marshal.WriteIntPtr(copy, SleepOffset, Marshal.GetFunctionPointerForDelegate(Sleep));
        return sqlite3_vfs_register(copy, 1) == 0;
    }
}
