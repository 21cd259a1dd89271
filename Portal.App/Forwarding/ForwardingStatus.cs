using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Data.Forwarding;

namespace Portal.App.Forwarding;

/// <summary>One sink's lag as the compliance page shows it.</summary>
public sealed record SinkLag(string Name, SinkKind Kind, string Destination, long LastEventId, long EventsBehind,
    DateTimeOffset? LastSuccessAt, string? LastError, DateTimeOffset? LastErrorAt, string? ForwardedBy);

/// <summary>Where each configured sink stands: read from the cursors, so it is the same on every instance.</summary>
public sealed class ForwardingStatus(ForwardingSettings settings, IDbContextFactory<PortalDbContext> contexts)
{
    public async Task<IReadOnlyList<SinkLag>> ReadAsync(CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var last = await EventCursors.LastCommittedIdAsync(db, ct);
        var names = settings.Sinks.Select(s => s.CursorName).ToList();
        var cursors = await db.EventCursors.AsNoTracking().Where(c => names.Contains(c.Name)).ToDictionaryAsync(c => c.Name, ct);
        return settings.Sinks.Select(s =>
        {
            cursors.TryGetValue(s.CursorName, out var c);
            var at = c?.LastEventId ?? 0;
            return new SinkLag(s.Name, s.Kind, Destination(s), at, Math.Max(0, last - at), c?.LastSuccessAt, c?.LastError, c?.LastErrorAt,
                c?.LeaseUntil is not null ? c.LeaseHolder : null);
        }).ToList();
    }

    /// <summary>Where it goes, without a secret (a webhook URL's query and user info are left out).</summary>
    private static string Destination(SinkSettings s) => s.Kind switch
    {
        SinkKind.Syslog => $"{s.Address!.Host}:{s.Address.Port}{(s.Options.Tls ? " (TLS)" : "")}",
        SinkKind.Webhook => s.Url!.GetLeftPart(UriPartial.Path),
        _ => s.Options.Path ?? "",
    };
}
