using System.Security.Claims;
using Portal.App.Auth;
using Portal.App.Downloads;

namespace Portal.Tests.Downloads;

/// <summary>Which budget applies to whom, and the numbers sent to nginx.</summary>
public class RatePolicyTests
{
    private static readonly RateLimitOptions Limits = new()
    {
        Default = 1000,
        Roles = { ["Staff"] = 2000, ["Admin"] = 0 },
        Groups = { ["contractors"] = 500, ["fast-lane"] = 8000 },
        Users = { ["u-special"] = 123 },
    };

    private static ClaimsPrincipal Person(string subject, string[] roles, string[] groups) =>
        new(new ClaimsIdentity(
            roles.Select(r => new Claim(ClaimTypes.Role, r))
                .Concat(groups.Select(g => new Claim(PortalClaims.Group, g)))
                .Append(new Claim(PortalClaims.Subject, subject)), "test"));

    [Theory]
    [InlineData("u-special", new[] { "Staff" }, new[] { "fast-lane" }, 123)]   // the user's own setting wins
    [InlineData("u1", new[] { "Staff" }, new[] { "contractors" }, 500)]         // a group beats a role
    [InlineData("u2", new[] { "Staff" }, new[] { "contractors", "fast-lane" }, 8000)] // the most generous group
    [InlineData("u3", new[] { "Staff" }, new string[0], 2000)]                  // the role
    [InlineData("u4", new[] { "Staff", "Admin" }, new string[0], 0)]            // unlimited is the most generous
    [InlineData("u5", new string[0], new[] { "unknown" }, 1000)]                // nothing matches: the default
    public void The_most_specific_setting_applies(string subject, string[] roles, string[] groups, long expected) =>
        Assert.Equal(expected, RatePolicy.BudgetFor(Person(subject, roles, groups), Limits));

    [Theory]
    [InlineData(900, 3, 300)]
    [InlineData(900, 0, 900)]
    [InlineData(0, 3, 0)]
    public void Each_concurrent_download_gets_an_equal_share(long budget, int maxConcurrent, long expected) =>
        Assert.Equal(expected, RatePolicy.PerDownloadRate(budget, maxConcurrent));

    [Fact]
    public void The_nginx_rate_takes_back_nginxs_one_second_allowance()
    {
        // nginx sends rate' × (t + 1) bytes by time t: 1 MiB must then take 1 MiB / 256 KiB/s = 4 s.
        var header = RatePolicy.NginxLimitRate(256 * 1024, 1024 * 1024);
        var seconds = 1024.0 * 1024 / header - 1;
        Assert.InRange(seconds, 3.99, 4.01);
        Assert.Equal(0, RatePolicy.NginxLimitRate(0, 1024));
    }
}
