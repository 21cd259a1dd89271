using System.Globalization;
using Portal.App.Hosting;

namespace Portal.App.Auth;

/// <summary>
/// How long a sign-in lasts ("Sessions" settings): it ends after <see cref="IdleTimeout"/> without activity, and after
/// <see cref="MaxLifetime"/> whatever the activity. The defaults are NIST SP 800-63B's for AAL2 (sign in again after
/// 30 minutes of inactivity and at least every 12 hours), which is what a regulated organisation is asked for.
/// </summary>
public sealed record SessionPolicy(TimeSpan IdleTimeout, TimeSpan MaxLifetime)
{
    public const string Section = "Sessions";
    public static readonly SessionPolicy Default = new(TimeSpan.FromMinutes(30), TimeSpan.FromHours(12));

    /// <summary>
    /// How often an instance writes a session's last activity to the database at most. Another instance may therefore
    /// see an idle session end up to this much early; a tenth of the idle timeout, and never more than a minute.
    /// </summary>
    public TimeSpan ActivityWriteInterval => TimeSpan.FromTicks(Math.Min(TimeSpan.FromMinutes(1).Ticks, IdleTimeout.Ticks / 10));

    /// <summary>
    /// The same rule as a database predicate: at <paramref name="now"/>, a session is expired when its last activity is
    /// at or before IdleBefore or it began at or before BornBefore (the sweep's candidates; the users page's live count
    /// is the rest).
    /// </summary>
    public (DateTimeOffset IdleBefore, DateTimeOffset BornBefore) CutOffs(DateTimeOffset now) => (now - IdleTimeout, now - MaxLifetime);

    /// <summary>The settings, checked: both positive, and the idle timeout no longer than the lifetime.</summary>
    public static SessionPolicy Read(IConfiguration config)
    {
        var idle = Duration(config, "IdleTimeout", Default.IdleTimeout);
        var max = Duration(config, "MaxLifetime", Default.MaxLifetime);
        if (idle > max)
            throw new StartupException($"{Section}:IdleTimeout ({idle}) is longer than {Section}:MaxLifetime ({max}); it can never apply.");
        return new SessionPolicy(idle, max);
    }

    private static TimeSpan Duration(IConfiguration config, string key, TimeSpan fallback)
    {
        var text = config[$"{Section}:{key}"];
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        if (!TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var value) || value <= TimeSpan.Zero)
            throw new StartupException($"{Section}:{key} '{text}' is not a positive duration (hh:mm:ss, for example 00:30:00 for 30 minutes).");
        return value;
    }

    /// <summary>"30 minutes", "12 hours", "1 day 2 hours": for the sign-in page and the audit reason.</summary>
    public static string InWords(TimeSpan span)
    {
        var parts = new List<string>();
        void Add(int n, string unit) { if (n > 0) parts.Add($"{n} {unit}{(n == 1 ? "" : "s")}"); }
        Add(span.Days, "day");
        Add(span.Hours, "hour");
        Add(span.Minutes, "minute");
        Add(span.Seconds, "second");
        return parts.Count == 0 ? "less than a second" : string.Join(" ", parts);
    }
}
