using System.Net;
using System.Text.RegularExpressions;
using Portal.App.Hosting;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Database;

/// <summary>/metrics in Prometheus text format counts what happened on this instance.</summary>
public class MetricsTests
{
    private static double Value(string metrics, string series)
    {
        var line = metrics.Split('\n').SingleOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        Assert.True(line is not null, $"no series {series} in:\n{metrics}");
        return double.Parse(line![(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Downloads_denials_and_audit_batches_are_counted()
    {
        await using var database = new SqliteTestDatabase();
        await using var host = new PortalHost(database, DeliveryMode.XAccel);
        var scenario = await Scenario.CreateAsync(host.Services);
        var staff = host.CreateBrowserLikeClient();
        await SignIn.AsDemoUserAsync(staff, "staff");

        await staff.GetAsync($"/d/{scenario.SharedDocumentId}");
        await staff.GetAsync($"/d/{scenario.SharedDocumentId}");
        await staff.GetAsync($"/d/{scenario.RestrictedDocumentId}");
        await staff.GetAsync($"/d/{Guid.NewGuid()}");
        var response = await host.CreateBrowserLikeClient().GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString());
        var metrics = await response.Content.ReadAsStringAsync();
        Assert.Contains("# TYPE portal_downloads_total counter", metrics);
        Assert.Equal(2, Value(metrics, "portal_downloads_total{outcome=\"allowed\"}"));
        Assert.Equal(1, Value(metrics, "portal_downloads_total{outcome=\"denied\"}"));
        Assert.Equal(1, Value(metrics, "portal_downloads_total{outcome=\"not_found\"}"));
        // The settings recorded at start-up, the sign-in and four download attempts: six events, in however many batches.
        Assert.Equal(6, Value(metrics, "portal_audit_batch_size_sum"));
        Assert.True(Value(metrics, "portal_audit_commit_seconds_count") >= 1);
        Assert.Matches(new Regex("^portal_active_circuits 0$", RegexOptions.Multiline), metrics);
    }
}
