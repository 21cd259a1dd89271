using Portal.Tests.Infrastructure;

namespace Portal.Tests.Forwarding;

/// <summary>A bad forwarding setting stops start-up with one clear line naming the key, and never shows the secret.</summary>
public sealed class ForwardingSettingsTests
{
    [Theory]
    [InlineData("Forwarding__Actions", "DocumentDownloaded,Teleported", "Forwarding:Actions names 'Teleported'")]
    [InlineData("Forwarding__BatchSize", "0", "Forwarding:BatchSize is 0")]
    [InlineData("Forwarding__Sinks__siem__Kind", "Carrier-pigeon", "Forwarding:Sinks:siem:Kind is 'Carrier-pigeon'")]
    public async Task A_bad_setting_stops_start_up_with_one_line(string key, string value, string expected)
    {
        var settings = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Forwarding__Sinks__siem__Kind"] = "Syslog",
            ["Forwarding__Sinks__siem__Address"] = "127.0.0.1:6514",
            [key] = value,
        };
        var result = await AppProcess.RunUntilExitAsync(settings, TimeSpan.FromSeconds(60));
        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("Portal cannot start: " + expected, line);
        Assert.DoesNotContain("   at ", result.AllOutput);
    }

    [Fact]
    public async Task A_webhook_with_a_short_secret_or_plain_http_elsewhere_is_refused_without_showing_the_secret()
    {
        var result = await AppProcess.RunUntilExitAsync(new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Forwarding__Sinks__hook__Kind"] = "Webhook",
            ["Forwarding__Sinks__hook__Url"] = "https://siem.example.org/in",
            ["Forwarding__Sinks__hook__Secret"] = "tooShort-xyz",
        }, TimeSpan.FromSeconds(60));
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("Portal cannot start: Forwarding:Sinks:hook:Secret is missing or shorter than 16 characters", result.StandardError.Trim());
        Assert.DoesNotContain("tooShort-xyz", result.AllOutput);

        var http = await AppProcess.RunUntilExitAsync(new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Forwarding__Sinks__hook__Kind"] = "Webhook",
            ["Forwarding__Sinks__hook__Url"] = "http://siem.example.org/in",
            ["Forwarding__Sinks__hook__Secret"] = "a-long-enough-secret-123",
        }, TimeSpan.FromSeconds(60));
        Assert.StartsWith("Portal cannot start: Forwarding:Sinks:hook:Url must use https", http.StandardError.Trim());
    }
}
