using Portal.Data.Database;

namespace Portal.Data.Alerts;

/// <summary>What an alert rule watches for.</summary>
public enum AlertRuleKind
{
    /// <summary>More than <see cref="AlertRule.Threshold"/> allowed downloads by one person in <see cref="AlertRule.WindowMinutes"/>.</summary>
    DownloadBurst,
    /// <summary>A download from <see cref="AlertRule.FolderId"/> (or below) outside working hours in <see cref="AlertRule.TimeZone"/>.</summary>
    OffHoursDownload,
    /// <summary>More than <see cref="AlertRule.Threshold"/> denied attempts by one person in <see cref="AlertRule.WindowMinutes"/>.</summary>
    DeniedBurst,
    /// <summary>A person's first download of a document they never accessed before, in the sensitive folder <see cref="AlertRule.FolderId"/> (or below).</summary>
    SensitiveFirstAccess,
    /// <summary>More than <see cref="AlertRule.Threshold"/> bytes downloaded by one person in one day (in <see cref="AlertRule.TimeZone"/>).</summary>
    DailyVolume,
}

/// <summary>A rule compliance officers configure; evaluated over committed audit events by <c>AlertEvaluator</c>.</summary>
public class AlertRule : ITimestamped
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public AlertRuleKind Kind { get; set; }
    public bool Enabled { get; set; } = true;
    /// <summary>Count (bursts) or bytes (daily volume): the rule fires when this is exceeded, never at it.</summary>
    public long Threshold { get; set; }
    public int WindowMinutes { get; set; }
    /// <summary>The folder watched (off hours, sensitive); its subfolders are included.</summary>
    public Guid? FolderId { get; set; }
    /// <summary>Working hours [start, end) on Monday to Friday, in <see cref="TimeZone"/>.</summary>
    public int WorkdayStartHour { get; set; } = 8;
    public int WorkdayEndHour { get; set; } = 18;
    /// <summary>IANA time zone id ("Europe/Paris") for working hours and days.</summary>
    public string TimeZone { get; set; } = "UTC";
    /// <summary>When it fires, suspend the person's downloads until a compliance officer releases them.</summary>
    public bool SuspendDownloads { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
