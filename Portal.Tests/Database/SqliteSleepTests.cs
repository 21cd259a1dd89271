using System.Diagnostics;
using Portal.Data.Database;

namespace Portal.Tests.Database;

/// <summary>
/// The bundled SQLite rounds its sleeps up to whole seconds; the portal's VFS sleeps the time asked. SQLite sleeps
/// microseconds when a reader finds the WAL index changing: a second there was a stalled download.
/// </summary>
public class SqliteSleepTests
{
    [Fact]
    public void SQLite_sleeps_milliseconds_not_whole_seconds()
    {
        Assert.True(SqliteSleep.Apply());
        Assert.Equal("unix-portal", SqliteSleep.DefaultVfsName());

        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 5; i++) SqliteSleep.SleepThroughDefaultVfs(2);

        // Five sleeps of 2 ms: about 10 ms; the bundled VFS alone would take 5 s.
        Assert.InRange(clock.ElapsedMilliseconds, 9, 2_000);
    }
}
