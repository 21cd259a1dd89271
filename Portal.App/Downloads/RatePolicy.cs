using System.Security.Claims;
using Portal.App.Auth;

namespace Portal.App.Downloads;

/// <summary>"Delivery:RateLimits": bytes per second per user, by user subject, group or role (0 = unlimited).</summary>
public sealed class RateLimitOptions
{
    public long Default { get; set; }
    public Dictionary<string, long> Roles { get; set; } = new(StringComparer.OrdinalIgnoreCase);
    public Dictionary<string, long> Groups { get; set; } = new(StringComparer.OrdinalIgnoreCase);
    /// <summary>By the identity provider's subject.</summary>
    public Dictionary<string, long> Users { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// A user's download bandwidth budget. The most specific setting wins (user, then group, then role, then the
/// default); among several groups or roles the most generous one applies (0, unlimited, beats any number).
/// </summary>
public static class RatePolicy
{
    public static long BudgetFor(ClaimsPrincipal user, RateLimitOptions limits)
    {
        if (user.FindFirstValue(PortalClaims.Subject) is { } subject && limits.Users.TryGetValue(subject, out var own)) return own;
        if (MostGenerous(user.Groups().Where(limits.Groups.ContainsKey).Select(g => limits.Groups[g])) is { } byGroup) return byGroup;
        var roles = user.FindAll(ClaimTypes.Role).Select(c => c.Value);
        if (MostGenerous(roles.Where(limits.Roles.ContainsKey).Select(r => limits.Roles[r])) is { } byRole) return byRole;
        return limits.Default;
    }

    private static long? MostGenerous(IEnumerable<long> rates)
    {
        long? best = null;
        foreach (var rate in rates)
            best = best is null ? rate : rate == 0 || best == 0 ? 0 : Math.Max(best.Value, rate);
        return best;
    }

    /// <summary>
    /// X-Accel-Limit-Rate limits one request, not one person: with at most <paramref name="maxConcurrent"/>
    /// downloads at once, each gets an equal share, so together they never exceed the budget.
    /// </summary>
    public static long PerDownloadRate(long budget, int maxConcurrent) =>
        budget <= 0 ? 0 : maxConcurrent > 0 ? Math.Max(1, budget / maxConcurrent) : budget;

    /// <summary>
    /// The X-Accel-Limit-Rate value that makes nginx hold <paramref name="bytes"/> to <paramref name="rate"/>.
    /// nginx lets a limited response send rate × (seconds + 1) bytes, a one-second allowance up front (1 MiB at
    /// 256 KiB/s took 3.1 s, not 4): asking for rate × bytes / (bytes + rate) takes the allowance back.
    /// </summary>
    public static long NginxLimitRate(long rate, long bytes) =>
        rate <= 0 ? 0 : Math.Max(1, (long)((double)rate * Math.Max(bytes, 1) / (Math.Max(bytes, 1) + rate)));
}
