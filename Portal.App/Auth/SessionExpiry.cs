using Microsoft.EntityFrameworkCore;
using Portal.App.Audit;
using Portal.Data;
using Portal.Data.Audit;
using Portal.Data.Database;

namespace Portal.App.Auth;

/// <summary>
/// Every minute, ends the sessions whose time is up (<see cref="SessionPolicy"/>) and records each as a SignOut event
/// of its person, with why and since when. They already stopped working when their time was up (the store decides
/// that on every request); this makes the record, and the users page's count of live sessions, say so even when the
/// person never comes back. Recorded first, then ended, one sweep at a time across instances (no double record).
/// </summary>
public sealed class SessionExpiry(
    IDbContextFactory<PortalDbContext> contexts, SessionStore sessions, SessionExpiryLock sweepLock, AuditLog audit,
    TimeProvider clock, ILogger<SessionExpiry> log) : BackgroundService
{
    public static readonly TimeSpan SweepEvery = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SweepEvery, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // The database or the audit log is away: nothing was ended unrecorded; the next sweep tries again.
                log.LogWarning(e, "Could not end expired sessions; trying again in {Interval}", SweepEvery);
            }
        }
    }

    /// <summary>Records and ends every expired session not yet ended; returns how many.</summary>
    public async Task<int> SweepAsync(CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        return await sweepLock.RunAsync(db, async () =>
        {
            var now = clock.GetUtcNow();
            var policy = sessions.Policy;
            var (idleBefore, bornBefore) = policy.CutOffs(now);
            var candidates = await db.Sessions.AsNoTracking()
                .Where(s => s.EndedAt == null && (s.LastActivityAt <= idleBefore || s.CreatedAt <= bornBefore))
                .Select(s => new
                {
                    s.Id, s.UserId, s.CreatedAt, s.LastActivityAt, s.User!.Subject, s.User.DisplayName,
                    Groups = db.GroupMemberships.Where(m => m.UserId == s.UserId).Select(m => m.Group!.Name).ToList(),
                })
                .ToListAsync(ct);

            var ended = 0;
            foreach (var s in candidates)
            {
                // The store's own rule, with what this instance saw and has not written yet (that session is still in use).
                var (state, lastActivity) = sessions.ExpiryOf(s.Id, s.CreatedAt, s.LastActivityAt, now);
                var reason = state switch
                {
                    SessionState.LifetimeReached => $"Session ended: signed in for {SessionPolicy.InWords(policy.MaxLifetime)}, the longest a session lasts (since {s.CreatedAt:yyyy-MM-dd HH:mm:ss} UTC)",
                    SessionState.IdleTimedOut => $"Session ended: no activity for {SessionPolicy.InWords(policy.IdleTimeout)} (last activity {lastActivity:yyyy-MM-dd HH:mm:ss} UTC)",
                    _ => null,
                };
                if (reason is null) continue;

                var e = AuditEventFactory.ForSessionOf(s.UserId, s.Subject, s.DisplayName, s.Groups, s.Id,
                    AuditAction.SignOut, AuditOutcome.Allowed, reason, null);
                e.CorrelationId = "session expiry";
                await audit.AppendAsync(e, ct);
                // Ended (and committed) right after its record, so a later failure in this sweep cannot leave a recorded
                // expiry unended for the next sweep to record again.
                await sessions.EndAsync(s.Id, reason, ct);
                ended++;
                log.LogInformation("Session {SessionId} of {UserId} expired: {Reason}", s.Id, s.UserId, reason);
            }
            sessions.Prune(now);
            return ended;
        }, ct);
    }
}
