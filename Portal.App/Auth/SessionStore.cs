using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Data.Database;
using Portal.Data.Sessions;

namespace Portal.App.Auth;

/// <summary>Where a session stands: in use, ended (signed out, logged out at the provider, user disabled), or expired.</summary>
public enum SessionState
{
    Active,
    Ended,
    /// <summary>No activity for the policy's idle timeout.</summary>
    IdleTimedOut,
    /// <summary>Older than the policy's longest lifetime, whatever the activity.</summary>
    LifetimeReached,
}

/// <summary>The person a session belongs to, as the users and memberships tables say.</summary>
public sealed record SessionUser(Guid UserId, string Issuer, string Subject, string DisplayName, string? Email,
    IReadOnlyList<string> Roles, IReadOnlyList<string> Groups);

/// <summary>
/// Server-side sessions. "Is it still active" is asked on every request, so what the table says is kept for a few
/// seconds; ending a session here drops it at once, and another app instance notices within <see cref="CacheFor"/>.
/// Expiry (<see cref="SessionPolicy"/>) is decided on every question from the clock, so an idle session stops working
/// the moment its time is up; <see cref="SessionExpiry"/> then records it and marks it ended. Writes take their turn
/// (<see cref="DatabaseWriteGate"/>).
/// </summary>
public sealed class SessionStore(IDbContextFactory<PortalDbContext> contexts, TimeProvider clock, SessionPolicy? policy = null,
    DatabaseWriteGate? writeGate = null)
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(10);
    private const int MaxReasonLength = 200; // UserSession.EndReason's column

    /// <summary>
    /// What the table said about a session (Live: not ended, user not disabled), whose it is, and until when to believe it.
    /// </summary>
    private sealed record Facts(bool Live, DateTimeOffset CreatedAt, DateTimeOffset LastActivityAt, DateTimeOffset Until, SessionUser? User = null);

    /// <summary>The latest activity this instance saw, and when it last wrote one to the table.</summary>
    private readonly record struct Activity(DateTimeOffset Seen, DateTimeOffset Written);

    private readonly ConcurrentDictionary<Guid, Facts> _facts = new();
    private readonly ConcurrentDictionary<Guid, Activity> _activity = new();

    public SessionPolicy Policy { get; } = policy ?? SessionPolicy.Default;

    public async Task<Guid> StartAsync(Guid userId, string? providerSessionId, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();
        var session = new UserSession
        {
            Id = Guid.CreateVersion7(now), UserId = userId, ProviderSessionId = providerSessionId, CreatedAt = now, LastActivityAt = now,
        };
        db.Sessions.Add(session);
        await writeGate.SaveChangesInTurnAsync(db, ct);
        _activity[session.Id] = new Activity(now, now);
        return session.Id;
    }

    /// <summary>True while the session exists, has not ended or expired, and its user is not disabled.</summary>
    public async Task<bool> IsActiveAsync(Guid sessionId, CancellationToken ct = default) =>
        await StateAsync(sessionId, ct) == SessionState.Active;

    /// <summary>Where the session stands now (without counting this question as activity).</summary>
    public async Task<SessionState> StateAsync(Guid sessionId, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        return StateOf(await FactsAsync(sessionId, now, ct), _activity.GetValueOrDefault(sessionId), now);
    }

    /// <summary>
    /// The person did something (a request, a click in an open page): if the session is still active, it counts as
    /// activity, written to the table at most every <see cref="SessionPolicy.ActivityWriteInterval"/>. An expired
    /// session is not revived. Returns where the session stands.
    /// </summary>
    public async Task<SessionState> ActivityAsync(Guid sessionId, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        var seen = _activity.GetValueOrDefault(sessionId);
        var state = StateOf(await FactsAsync(sessionId, now, ct), seen, now);
        if (state != SessionState.Active) return state;

        if (now - seen.Written < Policy.ActivityWriteInterval)
        {
            // To the second is plenty for a timeout of minutes, and spares a busy session a shared write per request.
            if (now - seen.Seen >= TimeSpan.FromSeconds(1)) _activity[sessionId] = seen with { Seen = now };
            return state;
        }
        _activity[sessionId] = new Activity(now, now);
        await using var db = await contexts.CreateDbContextAsync(ct);
        using (await writeGate.TurnAsync(ct))
            await db.Sessions.Where(s => s.Id == sessionId && s.EndedAt == null && s.LastActivityAt < now)
                .ExecuteUpdateAsync(u => u.SetProperty(s => s.LastActivityAt, now), ct);
        return state;
    }

    private SessionState StateOf(Facts facts, Activity seen, DateTimeOffset now) =>
        facts.Live ? ExpiryOf(facts.CreatedAt, Later(seen.Seen, facts.LastActivityAt), now) : SessionState.Ended;

    /// <summary>The one expiry rule, for requests and the sweep alike: the lifetime first, then the idle time.</summary>
    private SessionState ExpiryOf(DateTimeOffset createdAt, DateTimeOffset lastActivity, DateTimeOffset now) =>
        now - createdAt >= Policy.MaxLifetime ? SessionState.LifetimeReached
        : now - lastActivity >= Policy.IdleTimeout ? SessionState.IdleTimedOut
        : SessionState.Active;

    /// <summary>
    /// A live session's expiry from the table's times and what this instance saw and has not written yet; with the
    /// last activity that counted.
    /// </summary>
    internal (SessionState State, DateTimeOffset LastActivity) ExpiryOf(Guid sessionId, DateTimeOffset createdAt, DateTimeOffset recordedActivity, DateTimeOffset now)
    {
        var last = Later(_activity.GetValueOrDefault(sessionId).Seen, recordedActivity);
        return (ExpiryOf(createdAt, last, now), last);
    }

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private async Task<Facts> FactsAsync(Guid sessionId, DateTimeOffset now, CancellationToken ct)
    {
        if (_facts.TryGetValue(sessionId, out var cached) && cached.Until > now) return cached;
        await using var db = await contexts.CreateDbContextAsync(ct);
        var row = await db.Sessions.AsNoTracking().Where(s => s.Id == sessionId)
            .Select(s => new
            {
                Live = s.EndedAt == null && !s.User!.IsDisabled, s.CreatedAt, s.LastActivityAt,
                s.User!.Id, s.User.Issuer, s.User.Subject, s.User.DisplayName, s.User.Email, s.User.Roles,
                Groups = s.User.Memberships.Select(m => m.Group!.Name).ToList(),
            })
            .SingleOrDefaultAsync(ct);
        var facts = row is null ? new Facts(false, default, default, now + CacheFor)
            : new Facts(row.Live, row.CreatedAt, row.LastActivityAt, now + CacheFor,
                new SessionUser(row.Id, row.Issuer, row.Subject, row.DisplayName, row.Email,
                    row.Roles.Split(',', StringSplitOptions.RemoveEmptyEntries), row.Groups));
        _facts[sessionId] = facts;
        return facts;
    }

    /// <summary>
    /// Whose the session is, with their roles and groups as the users table has them (what the provider said at their
    /// latest sign-in), read with the session's state: what a request may do comes from here, not from the cookie.
    /// Null when the session is unknown.
    /// </summary>
    public async Task<SessionUser?> UserAsync(Guid sessionId, CancellationToken ct = default) =>
        (await FactsAsync(sessionId, clock.GetUtcNow(), ct)).User;

    /// <summary>This instance stops honouring the session at once (it was ended in the table).</summary>
    internal void Forget(Guid sessionId, DateTimeOffset now)
    {
        _facts[sessionId] = new Facts(false, default, default, now + CacheFor);
        _activity.TryRemove(sessionId, out _);
    }

    /// <summary>Drops what is kept about sessions that cannot matter any more, so the caches stay small.</summary>
    internal void Prune(DateTimeOffset now)
    {
        foreach (var (id, facts) in _facts)
            if (facts.Until < now) _facts.TryRemove(id, out _);
        foreach (var (id, seen) in _activity)
            if (now - seen.Seen > Policy.MaxLifetime) _activity.TryRemove(id, out _);
    }

    public async Task EndAsync(Guid sessionId, string reason, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();
        if (reason.Length > MaxReasonLength) reason = reason[..MaxReasonLength];
        using (await writeGate.TurnAsync(ct))
            await db.Sessions.Where(s => s.Id == sessionId && s.EndedAt == null)
                .ExecuteUpdateAsync(u => u.SetProperty(s => s.EndedAt, now).SetProperty(s => s.EndReason, reason), ct);
        Forget(sessionId, now);
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
            Forget(s.Id, now);
        }
        await writeGate.SaveChangesInTurnAsync(db, ct);
        return ended.Count;
    }

    /// <summary>Ends every live session with the provider's session id (or, without one, of the subject's user).</summary>
    public async Task<IReadOnlyList<UserSession>> EndByProviderAsync(string issuer, string? providerSessionId, string? subject, string reason, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var sessions = db.Sessions.Include(s => s.User!).ThenInclude(u => u.Memberships).ThenInclude(m => m.Group)
            .Where(s => s.EndedAt == null && s.User!.Issuer == issuer);
        sessions = providerSessionId is not null
            ? sessions.Where(s => s.ProviderSessionId == providerSessionId)
            : sessions.Where(s => s.User!.Subject == subject);
        var ended = await sessions.ToListAsync(ct);
        var now = clock.GetUtcNow();
        foreach (var s in ended)
        {
            s.EndedAt = now;
            s.EndReason = reason;
            Forget(s.Id, now);
        }
        await writeGate.SaveChangesInTurnAsync(db, ct);
        return ended;
    }
}
