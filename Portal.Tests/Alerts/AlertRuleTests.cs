using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.App.Alerts;
using Portal.App.Hosting;
using Portal.Data.Alerts;
using Portal.Data.Audit;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Alerts;

/// <summary>Each rule fires at its threshold and not one below, as events are committed.</summary>
public sealed class AlertRuleTests : IAsyncLifetime
{
    private SqliteTestDatabase database = null!;
    private PortalHost app = null!;
    private Scenario scenario = null!;
    private HttpClient staff = null!;
    // A Monday, 10:00 UTC: 11:00 in Paris, inside working hours.
    private readonly FakeClock clock = new(new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.Zero));

    public async Task InitializeAsync()
    {
        database = new SqliteTestDatabase();
        app = new PortalHost(database) { Clock = clock };
        scenario = await Scenario.CreateAsync(app.Services, sharedSize: 1000);
        staff = app.CreateBrowserLikeClient();
        await SignIn.AsDemoUserAsync(staff, "staff");
    }

    public async Task DisposeAsync()
    {
        staff.Dispose();
        await app.DisposeAsync();
        await database.DisposeAsync();
    }

    private async Task DownloadAsync(Guid document, HttpStatusCode expected = HttpStatusCode.OK) =>
        Assert.Equal(expected, (await staff.GetAsync($"/d/{document}")).StatusCode);

    [Fact]
    public async Task More_than_N_downloads_in_T_minutes_fires_on_the_N_plus_first_and_once()
    {
        await AlertTesting.AddRuleAsync(app, new AlertRule { Name = "Mass download", Kind = AlertRuleKind.DownloadBurst, Threshold = 5, WindowMinutes = 10 });
        for (var i = 0; i < 5; i++) await DownloadAsync(scenario.SharedDocumentId);
        await AlertTesting.EvaluatedAsync(app);
        Assert.Empty(await AlertTesting.AlertsAsync(app));

        await DownloadAsync(scenario.SharedDocumentId);
        await DownloadAsync(scenario.SharedDocumentId); // still above: the same run of activity, no second alert
        await AlertTesting.EvaluatedAsync(app);
        var alert = Assert.Single(await AlertTesting.AlertsAsync(app));
        Assert.Equal(scenario.StaffUserId, alert.UserId);
        Assert.Equal(6, alert.EvidenceEventIds.Split(',').Length);
        var raised = (await app.AuditEventsAsync()).Single(e => e.Action == AuditAction.AlertRaised);
        Assert.Equal(alert.AuditEventId, raised.Id);
        Assert.Contains("Mass download", raised.Changes);
        Assert.Contains(alert.EvidenceEventIds.Split(',')[0], raised.Changes);

        // Outside the window the count starts again.
        clock.Advance(TimeSpan.FromMinutes(11));
        for (var i = 0; i < 5; i++) await DownloadAsync(scenario.SharedDocumentId);
        await AlertTesting.EvaluatedAsync(app);
        Assert.Single(await AlertTesting.AlertsAsync(app));
    }

    [Fact]
    public async Task More_than_N_denied_attempts_fires_on_the_N_plus_first()
    {
        await AlertTesting.AddRuleAsync(app, new AlertRule { Name = "Probing", Kind = AlertRuleKind.DeniedBurst, Threshold = 3, WindowMinutes = 5 });
        for (var i = 0; i < 3; i++) await DownloadAsync(scenario.RestrictedDocumentId, HttpStatusCode.Forbidden);
        await DownloadAsync(scenario.SharedDocumentId); // allowed: not counted
        await AlertTesting.EvaluatedAsync(app);
        Assert.Empty(await AlertTesting.AlertsAsync(app));
        await DownloadAsync(scenario.RestrictedDocumentId, HttpStatusCode.Forbidden);
        await AlertTesting.EvaluatedAsync(app);
        Assert.Equal(AlertRuleKind.DeniedBurst, Assert.Single(await AlertTesting.AlertsAsync(app)).RuleKind);
    }

    [Fact]
    public async Task More_than_X_bytes_in_a_day_fires_past_X_not_at_it()
    {
        // The shared document is 1,000 bytes: two downloads are exactly the limit, the third passes it.
        await AlertTesting.AddRuleAsync(app, new AlertRule { Name = "Volume", Kind = AlertRuleKind.DailyVolume, Threshold = 2000, TimeZone = "Europe/Paris" });
        await DownloadAsync(scenario.SharedDocumentId);
        await DownloadAsync(scenario.SharedDocumentId);
        await AlertTesting.EvaluatedAsync(app);
        Assert.Empty(await AlertTesting.AlertsAsync(app));
        await DownloadAsync(scenario.SharedDocumentId);
        await AlertTesting.EvaluatedAsync(app);
        Assert.Contains("3,000 bytes", Assert.Single(await AlertTesting.AlertsAsync(app)).Summary);
    }

    [Fact]
    public async Task The_first_download_of_a_document_in_a_sensitive_folder_fires_and_the_second_does_not()
    {
        await DownloadAsync(scenario.RestrictedDocumentId, HttpStatusCode.Forbidden); // a refusal is not an access
        await AlertTesting.AddRuleAsync(app, new AlertRule { Name = "Sensitive", Kind = AlertRuleKind.SensitiveFirstAccess, FolderId = scenario.SharedFolderId });
        await DownloadAsync(scenario.SharedDocumentId);
        await DownloadAsync(scenario.SharedDocumentId);
        await AlertTesting.EvaluatedAsync(app);
        var alert = Assert.Single(await AlertTesting.AlertsAsync(app));
        Assert.Contains(Scenario.SharedDocumentName, alert.Summary);
    }

    [Fact]
    public async Task A_download_from_the_watched_folder_outside_working_hours_fires_and_inside_does_not()
    {
        await AlertTesting.AddRuleAsync(app, new AlertRule
        {
            Name = "Evenings", Kind = AlertRuleKind.OffHoursDownload, FolderId = scenario.SharedFolderId,
            WorkdayStartHour = 8, WorkdayEndHour = 18, TimeZone = "Europe/Paris",
        });
        await DownloadAsync(scenario.SharedDocumentId); // 11:00 Paris
        clock.Advance(TimeSpan.FromHours(6) + TimeSpan.FromMinutes(59)); // 17:59 Paris
        await SignIn.AsDemoUserAsync(staff, "staff"); // the session ended meanwhile (30 minutes idle)
        await DownloadAsync(scenario.SharedDocumentId);
        await AlertTesting.EvaluatedAsync(app);
        Assert.Empty(await AlertTesting.AlertsAsync(app));
        clock.Advance(TimeSpan.FromMinutes(1)); // 18:00 Paris
        await DownloadAsync(scenario.SharedDocumentId);
        await AlertTesting.EvaluatedAsync(app);
        Assert.Contains("18:00", Assert.Single(await AlertTesting.AlertsAsync(app)).Summary);
    }

    [Fact]
    public async Task A_suspended_person_is_refused_and_recorded_until_released_and_every_step_is_audited()
    {
        var operations = app.Services.GetRequiredService<AlertOperations>();
        await AlertTesting.AddRuleAsync(app, new AlertRule { Name = "Stop it", Kind = AlertRuleKind.DownloadBurst, Threshold = 2, WindowMinutes = 10, SuspendDownloads = true });
        for (var i = 0; i < 3; i++) await DownloadAsync(scenario.SharedDocumentId);
        await AlertTesting.EvaluatedAsync(app);
        var alert = Assert.Single(await AlertTesting.AlertsAsync(app));
        Assert.True(alert.SuspendedDownloads);

        var refused = await staff.GetAsync($"/d/{scenario.SharedDocumentId}");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("suspended", await refused.Content.ReadAsStringAsync());
        var last = (await app.AuditEventsAsync()).Last(e => e.Action == AuditAction.DocumentDownloaded);
        Assert.Equal(AuditOutcome.Denied, last.Outcome);
        Assert.Contains("suspended", last.Reason);
        Assert.Equal(scenario.StaffUserId, last.ActorUserId);

        Assert.False((await operations.ReleaseAsync(new System.Security.Claims.ClaimsPrincipal(), scenario.StaffUserId, null)).Ok);
        Assert.True((await operations.AcknowledgeAsync(AlertTesting.Cora, alert.Id, null)).Ok);
        Assert.True((await operations.ReleaseAsync(AlertTesting.Cora, scenario.StaffUserId, null)).Ok);
        Assert.True((await operations.ResolveAsync(AlertTesting.Cora, alert.Id, null)).Ok);
        await DownloadAsync(scenario.SharedDocumentId);

        var events = await app.AuditEventsAsync();
        Assert.Single(events, e => e.Action == AuditAction.DownloadsReleased && e.Outcome == AuditOutcome.Denied);
        Assert.Single(events, e => e.Action == AuditAction.DownloadsReleased && e.Outcome == AuditOutcome.Allowed && e.ActorDisplayName == "Cora Compliance");
        Assert.Single(events, e => e.Action == AuditAction.AlertAcknowledged);
        Assert.Single(events, e => e.Action == AuditAction.AlertResolved);
        Assert.Single(events, e => e.Action == AuditAction.AlertRuleChanged);
        Assert.Equal(AlertStatus.Resolved, Assert.Single(await AlertTesting.AlertsAsync(app)).Status);
        Assert.Null(AuditChain.FindFirstBroken(events));
    }
}
