using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.App.Alerts;
using Portal.App.Auth;
using Portal.Data.Alerts;
using Portal.Data.Forwarding;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Alerts;

internal static class AlertTesting
{
    public static readonly ClaimsPrincipal Cora = new(new ClaimsIdentity(
        [new Claim(ClaimTypes.Name, "Cora Compliance"), new Claim(ClaimTypes.Role, PortalRoles.ComplianceOfficer)], "test"));

    public static async Task<AlertRule> AddRuleAsync(PortalHost app, AlertRule rule)
    {
        var result = await app.Services.GetRequiredService<AlertOperations>().SaveRuleAsync(Cora, rule, null);
        Assert.True(result.Ok, result.Error);
        return rule;
    }

    /// <summary>Waits until the evaluator has read every committed event (its cursor at the end of the log, twice in a row).</summary>
    public static async Task EvaluatedAsync(params PortalHost[] apps)
    {
        var app = apps[0];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var settled = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            var (cursor, last) = await app.WithDbAsync(async db => (
                (await EventCursors.FindAsync(db, AlertEvaluator.CursorName))?.LastEventId ?? -1,
                await EventCursors.LastCommittedIdAsync(db)));
            settled = cursor == last ? settled + 1 : 0;
            if (settled == 3) return;
            await Task.Delay(200);
        }
        throw new TimeoutException("the alert evaluator did not catch up");
    }

    public static Task<List<Alert>> AlertsAsync(PortalHost app) => app.WithDbAsync(db => db.Alerts.AsNoTracking().OrderBy(a => a.TriggerEventId).ToListAsync());
}
