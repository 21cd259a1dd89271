using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Data.Database;
using Portal.Data.Users;

namespace Portal.App.Auth;

/// <summary>Keeps the users and groups tables in step with what the identity provider says at each sign-in.</summary>
public sealed class UserDirectory(IDbContextFactory<PortalDbContext> contexts, TimeProvider clock, DatabaseWriteGate? writeGate = null)
{
    /// <summary>
    /// Creates or updates the user (name, email and whether the provider vouched for it, roles, last seen) and replaces
    /// their group memberships.
    /// </summary>
    public async Task<User> SignedInAsync(string issuer, string subject, string displayName, string? email, bool emailVerified,
        IReadOnlyCollection<string> roles, IReadOnlyCollection<string> groups, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var user = await db.Users.Include(u => u.Memberships)
            .SingleOrDefaultAsync(u => u.Issuer == issuer && u.Subject == subject, ct);
        if (user is null)
        {
            user = new User { Id = Guid.CreateVersion7(clock.GetUtcNow()), Issuer = issuer, Subject = subject, DisplayName = displayName };
            db.Users.Add(user);
        }
        user.DisplayName = displayName;
        user.Email = email;
        user.EmailVerified = email is not null && emailVerified;
        user.Roles = string.Join(',', roles);
        user.LastSeenAt = clock.GetUtcNow();

        var known = await db.Groups.Where(g => groups.Contains(g.Name)).ToListAsync(ct);
        foreach (var name in groups.Except(known.Select(g => g.Name)))
        {
            var group = new Group { Id = Guid.CreateVersion7(clock.GetUtcNow()), Name = name };
            db.Groups.Add(group);
            known.Add(group);
        }
        user.Memberships.RemoveAll(m => known.All(g => g.Id != m.GroupId));
        foreach (var group in known.Where(g => user.Memberships.All(m => m.GroupId != g.Id)))
            user.Memberships.Add(new GroupMembership { UserId = user.Id, GroupId = group.Id });

        await writeGate.SaveChangesInTurnAsync(db, ct);
        return user;
    }
}
