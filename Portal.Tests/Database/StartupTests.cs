using Portal.Tests.Infrastructure;

namespace Portal.Tests.Database;

/// <summary>
/// Start-up stops with one clear line, exit code 1 and no stack trace when the database or a setting is wrong.
/// Run as a real process: that is what an operator sees.
/// </summary>
public class StartupTests
{
    private static Task<AppProcess.Result> StartWith(params (string Key, string Value)[] settings) =>
        AppProcess.RunUntilExitAsync(settings.ToDictionary(s => s.Key, s => s.Value)
            .Append(new("ASPNETCORE_ENVIRONMENT", "Development")).ToDictionary(), TimeSpan.FromSeconds(60));

    private static void AssertOneClearFailure(AppProcess.Result result, string expectedStart)
    {
        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("Portal cannot start: " + expectedStart, line);
        Assert.DoesNotContain("   at ", result.AllOutput); // no stack trace anywhere
        Assert.DoesNotContain("Exception", result.AllOutput);
    }

    [Fact]
    public async Task An_unreachable_database_stops_start_up_with_a_clear_message_without_the_password()
    {
        // Port 1 on loopback: nothing listens there, so the connection is refused at once.
        var result = await StartWith(
            ("Database__Provider", "PostgreSQL"),
            ("Database__ConnectionString", "Host=127.0.0.1;Port=1;Database=portal;Username=portal;Password=s3cret-value;Timeout=3"));

        AssertOneClearFailure(result, "Cannot open the PostgreSQL database (");
        Assert.Contains("127.0.0.1", result.StandardError);
        Assert.Contains("Check Database:Provider and Database:ConnectionString", result.StandardError);
        Assert.DoesNotContain("s3cret-value", result.AllOutput);
    }

    [Fact]
    public async Task An_unknown_database_provider_is_named()
    {
        var result = await StartWith(("Database__Provider", "Oracle"));
        AssertOneClearFailure(result, "Database:Provider 'Oracle' is not known. Use one of: Sqlite, PostgreSQL, SqlServer.");
    }

    [Fact]
    public async Task An_unknown_delivery_mode_is_named()
    {
        var result = await StartWith(("Delivery__Mode", "Carrier-pigeon"));
        AssertOneClearFailure(result, "Delivery:Mode 'Carrier-pigeon' is not known. Use Direct or XAccel.");
    }

    [Fact]
    public async Task An_authority_without_client_id_and_secret_is_named()
    {
        var result = await StartWith(("Oidc__Authority", "https://login.example.org"));
        AssertOneClearFailure(result, "Oidc:Authority is set but Oidc:ClientId and Oidc:ClientSecret are missing.");
    }

    [Fact]
    public async Task Turning_the_development_sign_in_on_in_production_refuses_to_start()
    {
        var result = await AppProcess.RunUntilExitAsync(new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production", ["Auth__DevelopmentSignIn"] = "true",
        }, TimeSpan.FromSeconds(60));
        AssertOneClearFailure(result, "Auth:DevelopmentSignIn is on in the Production environment.");
    }

    [Fact]
    public async Task Production_without_an_identity_provider_refuses_to_start_instead_of_offering_the_development_sign_in()
    {
        var result = await AppProcess.RunUntilExitAsync(new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Production" }, TimeSpan.FromSeconds(60));
        AssertOneClearFailure(result, "No sign-in is configured. Set Oidc:Authority, Oidc:ClientId and Oidc:ClientSecret");
    }
}
