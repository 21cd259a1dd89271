using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Portal.App.Audit;
using Portal.App.Auth;
using Portal.Data.Audit;
using Portal.Data.Permissions;

namespace Portal.App.Permissions;

/// <summary>A person or a group the permission editor's picker offers; a grant names them by id (a person) or name (a group).</summary>
public sealed record PrincipalMatch(bool IsGroup, Guid Id, string Name, string? Email)
{
    /// <summary>What the grant takes: a person by their portal id (their name may be shared), a group by its name.</summary>
    public GrantTo ToGrant() => IsGroup ? new GrantTo(null, Name) : new GrantTo(Id.ToString(), null);

    /// <summary>How the picker writes it: "Sam Staff (sam@example.org)", "Group: staff".</summary>
    public string Label => IsGroup ? $"Group: {Name}" : Email is { Length: > 0 } ? $"{Name} ({Email})" : Name;
}

// The read side of permission administration: explaining a person's access and finding whom to grant to.
public sealed partial class PermissionAdministration
{
    /// <summary>How many people and groups the picker lists at most (type more to narrow it).</summary>
    public const int MaxMatches = 20;

    /// <summary>
    /// "Can user X do Y here, and why". Admins only: the answer shows the person's roles and groups, which a folder
    /// manager has no business reading about anyone (issue #25). A refusal is recorded like a refused admin page.
    /// </summary>
    public async Task<AdminResult<AccessExplanation>> ExplainAsync(ClaimsPrincipal caller, Guid userId, Guid folderId, CancellationToken ct = default,
        HttpContext? http = null)
    {
        if (caller.ToActor() is not { IsAdmin: true })
        {
            var refused = AuditEventFactory.For(caller, AuditAction.AccessRefused, AuditOutcome.Denied, "Only for administrators", http);
            refused.TargetPath = http?.Request.Path.Value ?? "/admin/explain";
            await audit.AppendAsync(refused, ct);
            log.LogInformation("{User} may not explain access ({FolderId})", caller.Identity?.Name, folderId);
            return AdminResult<AccessExplanation>.Forbidden("Only admins may explain a person's access: it shows their roles and groups.");
        }
        var explanation = await permissions.ExplainAsync(userId, folderId, ct);
        return explanation is null
            ? AdminResult<AccessExplanation>.NotFound("No such user or folder.")
            : AdminResult<AccessExplanation>.Done(explanation);
    }

    /// <summary>
    /// People (by name or e-mail) and groups (by name) containing <paramref name="text"/>, ignoring case, for the
    /// editor's picker. Needs Manage on the folder (or Admin), the right a grant needs: the list names people. Disabled
    /// people are left out (they cannot sign in). At most <see cref="MaxMatches"/> of each, groups first.
    /// </summary>
    public async Task<AdminResult<IReadOnlyList<PrincipalMatch>>> SearchPrincipalsAsync(ClaimsPrincipal caller, Guid folderId, string? text,
        CancellationToken ct = default)
    {
        if (await RefusalAsync<IReadOnlyList<PrincipalMatch>>(caller, folderId, "change permissions on this folder", ct) is { } refused) return refused;
        var term = (text ?? "").Trim().ToLowerInvariant();
        if (term.Length == 0) return AdminResult<IReadOnlyList<PrincipalMatch>>.Done([]);
        if (term.Length > 200) term = term[..200];

        await using var db = await contexts.CreateDbContextAsync(ct);
        var groups = await db.Groups.AsNoTracking()
            .Where(g => g.Name.ToLower().Contains(term))
            .OrderBy(g => g.Name).Take(MaxMatches)
            .Select(g => new PrincipalMatch(true, g.Id, g.Name, null)).ToListAsync(ct);
        var users = await db.Users.AsNoTracking()
            .Where(u => !u.IsDisabled && (u.DisplayName.ToLower().Contains(term) || (u.Email != null && u.Email.ToLower().Contains(term))))
            .OrderBy(u => u.DisplayName).Take(MaxMatches)
            .Select(u => new PrincipalMatch(false, u.Id, u.DisplayName, u.Email)).ToListAsync(ct);
        return AdminResult<IReadOnlyList<PrincipalMatch>>.Done([.. groups, .. users]);
    }
}
