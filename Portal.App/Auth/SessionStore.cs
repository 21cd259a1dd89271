using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Data.Sessions;

namespace Portal.App.Auth;

/// <summary>
/// Server-side sessions. "Is it still active" is asked on every request, so answers are kept for a few seconds;
/// ending a session here drops it at once, and another app instance notices within <see cref="CacheFor"/>.
/// </summary>
public sealed class SessionStore(IDbContextFactory<PortalDbContext> contexts, TimeProvider clock)
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(10);
    private readonly ConcurrentDictionary<Guid, (bool Active, DateTimeOffset Until)> _active = new();

    public async Task<Guid> StartAsync(Guid userId, string? providerSessionId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var session = new UserSession
        {
            Id = Guid.CreateVersion7(clock.GetUtcNow()), UserId = userId, ProviderSessionId = providerSessionId, CreatedAt = clock.GetUtcNow(),
        };
        db.Sessions.Add(session);
        await db.SaveChangesAsync(ct);
        return session.Id;
    }

    /// <summary>True while the session exists, has not ended and its user is not disabled.</summary>
    public async Task<bool> IsActiveAsync(Guid sessionId, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        if (_active.TryGetValue(sessionId, out var cached) && cached.Until > now) return cached.Active;
        await using var db = await contexts.CreateDbContextAsync(ct);
        var active = await db.Sessions.AnyAsync(s => s.Id == sessionId && s.EndedAt == null && !s.User!.IsDisabled, ct);
        _active[sessionId] = (active, now + CacheFor);
        return active;
    }

    public async Task EndAsync(Guid sessionId, string reason, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();
        await db.Sessions.Where(s => s.Id == sessionId && s.EndedAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.EndedAt, now).SetProperty(s => s.EndReason, reason), ct);
        _active[sessionId] = (false, DateTimeOffset.MaxValue);
    }

    /// <summary>Ends every live session of a user (they were disabled); this instance stops honouring them at once.</summary>
    public async Task<int> EndAllOfUserAsync(Guid userId, string reason, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var ended = await db.Sessions.Where(s => s.UserId == userId && s.EndedAt == null).ToListAsync(ct);
        var now = clock.GetUtcNow();
        foreach (var s in ended)
        {
            s.EndedAt = now;
            s.EndReason = reason;
            _active[s.Id] = (false, DateTimeOffset.MaxValue);
        }
        await db.SaveChangesAsync(ct);
        return ended.Count;
    }

    /// <summary>Ends every live session with the provider's session id (or, without one, of the subject's user).</summary>
    public async Task<IReadOnlyList<UserSession>> EndByProviderAsync(string issuer, string? providerSessionId, string? subject, string reason, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var sessions = db.Sessions.Include(s => s.User).Where(s => s.EndedAt == null && s.User!.Issuer == issuer);
        sessions = providerSessionId is not null
            ? sessions.Where(s => s.ProviderSessionId == providerSessionId)
            : sessions.Where(s => s.User!.Subject == subject);
        var ended = await sessions.ToListAsync(ct);
        var now = clock.GetUtcNow();
        foreach (var s in ended)
        {
            s.EndedAt = now;
            s.EndReason = reason;
            _active[s.Id] = (false, DateTimeOffset.MaxValue);
        }
        await db.SaveChangesAsync(ct);
        return ended;
    }
}
