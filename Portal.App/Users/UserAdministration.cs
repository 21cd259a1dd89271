using System.Security.Claims;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Portal.App.Audit;
using Portal.App.Auth;
using Portal.App.Permissions;
using Portal.Data;
using Portal.Data.Audit;
using Portal.Data.Database;

namespace Portal.App.Users;

/// <summary>A row of the users page.</summary>
public sealed record UserRow(Guid Id, string DisplayName, string? Email, string Subject, string Issuer, IReadOnlyList<string> Roles,
    IReadOnlyList<string> Groups, DateTimeOffset? LastSeenAt, bool IsDisabled, int ActiveSessions);

/// <summary>
/// The users page and API: who is known, when they were last seen, their groups and roles; disable and enable.
/// Admins only. Disabling ends the person's sessions at once (their cookie stops working on the next request,
/// open pages within the circuit's revalidation interval) and refuses their next sign-in; both changes are audited.
/// </summary>
public sealed class UserAdministration(IDbContextFactory<PortalDbContext> contexts, SessionStore sessions, AuditLog audit,
    TimeProvider clock, ILogger<UserAdministration> log)
{
    public async Task<AdminResult<IReadOnlyList<UserRow>>> ListAsync(ClaimsPrincipal caller, CancellationToken ct = default)
    {
        if (!IsAdmin(caller)) return AdminResult<IReadOnlyList<UserRow>>.Forbidden("Only admins may see the users.");
        await using var db = await contexts.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();
        // Live sessions are the ones still in use: an expired one counts no more, even before the sweep ends it.
        var (idleBefore, bornBefore) = sessions.Policy.CutOffs(now);
        var rows = await db.Users.AsNoTracking()
            .Select(u => new
            {
                u.Id, u.DisplayName, u.Email, u.Subject, u.Issuer, u.Roles, u.LastSeenAt, u.IsDisabled,
                Groups = u.Memberships.Select(m => m.Group!.Name).ToList(),
                Sessions = db.Sessions.Count(s => s.UserId == u.Id && s.EndedAt == null && s.LastActivityAt > idleBefore && s.CreatedAt > bornBefore),
                LastActivity = db.Sessions.Where(s => s.UserId == u.Id).Max(s => (DateTimeOffset?)s.LastActivityAt),
            })
            .ToListAsync(ct);
        IReadOnlyList<UserRow> users = rows
            .Select(u => new UserRow(u.Id, u.DisplayName, u.Email, u.Subject, u.Issuer,
                u.Roles.Split(',', StringSplitOptions.RemoveEmptyEntries), u.Groups.Order(StringComparer.CurrentCultureIgnoreCase).ToList(),
                // Last seen: the later of the last sign-in and the last recorded activity (to the minute).
                u.LastActivity > u.LastSeenAt || u.LastSeenAt is null ? u.LastActivity : u.LastSeenAt, u.IsDisabled, u.Sessions))
            .OrderBy(u => u.DisplayName, StringComparer.CurrentCultureIgnoreCase)
            .ToList();
        return AdminResult<IReadOnlyList<UserRow>>.Done(users);
    }

    /// <summary>Disables (or enables again) a user. An admin cannot disable themselves (someone must be left to undo it).</summary>
    public async Task<AdminResult<bool>> SetDisabledAsync(ClaimsPrincipal caller, HttpContext? http, Guid userId, bool disabled, CancellationToken ct = default)
    {
        var action = disabled ? AuditAction.UserDisabled : AuditAction.UserEnabled;
        if (!IsAdmin(caller))
        {
            await audit.AppendAsync(AuditEventFactory.For(caller, action, AuditOutcome.Denied, "Only admins may disable or enable users", http), ct);
            return AdminResult<bool>.Forbidden("Only admins may disable or enable users.");
        }
        if (disabled && caller.ToActor()?.UserId == userId) return AdminResult<bool>.Invalid("You cannot disable yourself.");

        await using var db = await contexts.CreateDbContextAsync(ct);
        var user = await db.Users.SingleOrDefaultAsync(u => u.Id == userId, ct);
        if (user is null) return AdminResult<bool>.NotFound("No such user.");
        if (user.IsDisabled == disabled)
        {
            // Already so; still make sure no session of a disabled user survives.
            if (disabled) await sessions.EndAllOfUserAsync(userId, "User disabled", ct);
            return AdminResult<bool>.Done(disabled, "Nothing changed.");
        }

        // The user's state, the sessions it ends and the event, in one transaction (both or neither).
        var now = clock.GetUtcNow();
        var endedIds = await audit.CommitWithChangeAsync(db, async change =>
        {
            var live = disabled ? await db.Sessions.Where(s => s.UserId == userId && s.EndedAt == null).ToListAsync(ct) : [];
            foreach (var s in live) (s.EndedAt, s.EndReason) = (now, "User disabled");
            var record = AuditEventFactory.For(caller, action, AuditOutcome.Allowed, $"{(disabled ? "Disabled" : "Enabled")} {user.DisplayName}", http);
            record.TargetName = user.DisplayName;
            record.Changes = JsonSerializer.Serialize(new
            {
                before = new { userId = user.Id, subject = user.Subject, name = user.DisplayName, disabled = user.IsDisabled },
                after = new { userId = user.Id, subject = user.Subject, name = user.DisplayName, disabled, sessionsEnded = live.Count },
            });
            user.IsDisabled = disabled;
            change.Record(record);
            return live.ConvertAll(s => s.Id);
        }, ct);
        foreach (var id in endedIds) sessions.Forget(id, now); // this instance stops honouring them at once
        var ended = endedIds.Count;
        log.LogInformation("User {UserId} {State}; {Sessions} sessions ended", userId, disabled ? "disabled" : "enabled", ended);
        return AdminResult<bool>.Done(disabled, disabled
            ? $"{user.DisplayName} is disabled; " + ended switch
            {
                0 => "they had no open session.",
                1 => "their open session was ended.",
                _ => $"their {ended} open sessions were ended.",
            }
            : $"{user.DisplayName} may sign in again.");
    }

    private static bool IsAdmin(ClaimsPrincipal caller) => caller.ToActor() is { IsAdmin: true };
}
