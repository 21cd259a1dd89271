using Microsoft.JSInterop;

namespace Portal.App.Components;

/// <summary>
/// The viewer's own time zone (the browser's), asked once per circuit. Until it is known (prerendering, component
/// tests) times are shown in UTC, and say so.
/// </summary>
public sealed class ViewerClock
{
    public TimeZoneInfo? Zone { get; private set; }

    /// <summary>Raised once the zone is known, so times already on the page re-render in it.</summary>
    public event Action? Changed;

    public async Task LearnAsync(IJSObjectReference module)
    {
        if (Zone is not null) return;
        var id = await module.InvokeAsync<string?>("timeZone");
        if (id is null || !TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone)) return;
        Zone = zone;
        Changed?.Invoke();
    }

    /// <summary>"2026-03-04 14:05" in the viewer's zone with its abbreviation or offset, or in UTC while it is unknown.</summary>
    public string Format(DateTimeOffset time)
    {
        if (Zone is null) return time.UtcDateTime.ToString("yyyy-MM-dd HH:mm") + " UTC";
        var local = TimeZoneInfo.ConvertTime(time, Zone);
        return local.ToString("yyyy-MM-dd HH:mm");
    }

    public static string Exact(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss") + " UTC";
}
