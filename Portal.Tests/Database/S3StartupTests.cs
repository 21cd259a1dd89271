using Portal.Tests.Infrastructure;

namespace Portal.Tests.Database;

/// <summary>
/// With Storage:Kind=S3, wrong keys or a missing bucket stop start-up with one clear line and exit code 1,
/// not a failure at the first download. Run as a real process against the run's real S3 server.
/// </summary>
public sealed class S3StartupTests : IAsyncLifetime
{
    private TestBucket bucket = null!;

    public async Task InitializeAsync()
    {
        if (TestEnvironment.S3Endpoint is null && !TestEnvironment.IsCi) return; // skipped: see S3Fact
        bucket = await TestBucket.CreateAsync();
    }

    public async Task DisposeAsync()
    {
        if (bucket is not null) await bucket.DisposeAsync();
    }

    private Task<AppProcess.Result> StartWith(params (string Key, string Value)[] overrides)
    {
        var environment = bucket.Settings().ToDictionary(s => s.Key.Replace(":", "__"), s => s.Value!);
        foreach (var (key, value) in overrides) environment[key] = value;
        environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        return AppProcess.RunUntilExitAsync(environment, TimeSpan.FromSeconds(60));
    }

    private static void AssertOneClearFailure(AppProcess.Result result, string expectedStart, params string[] expected)
    {
        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("Portal cannot start: " + expectedStart, line);
        foreach (var text in expected) Assert.Contains(text, line);
        Assert.DoesNotContain("   at ", result.AllOutput);
        Assert.DoesNotContain("Exception", result.AllOutput);
        Assert.DoesNotContain(TestEnvironment.S3SecretKey, result.AllOutput);
    }

    [S3Fact]
    public async Task A_wrong_secret_key_stops_start_up_and_names_the_setting_without_showing_it()
    {
        var result = await StartWith(("Storage__S3__SecretKey", "not-the-secret-" + Guid.NewGuid()));
        AssertOneClearFailure(result, $"Cannot use the document storage: The S3 bucket '{bucket.Name}' at {TestBucket.Endpoint} refused the secret key.",
            "Check Storage:S3:SecretKey.");
        Assert.DoesNotContain("not-the-secret-", result.AllOutput);
    }

    [S3Fact]
    public async Task An_unknown_access_key_stops_start_up()
    {
        var result = await StartWith(("Storage__S3__AccessKey", "NOSUCHKEY"));
        AssertOneClearFailure(result, "Cannot use the document storage: ", "does not know the access key", "Check Storage:S3:AccessKey and Storage:S3:SecretKey.");
    }

    [S3Fact]
    public async Task A_missing_bucket_stops_start_up_and_says_which()
    {
        var result = await StartWith(("Storage__S3__Bucket", "no-such-bucket-here"));
        AssertOneClearFailure(result, $"Cannot use the document storage: The S3 bucket 'no-such-bucket-here' at {TestBucket.Endpoint} does not exist.",
            "Create it, or check Storage:S3:Bucket.");
    }

    [S3Fact]
    public async Task An_unreachable_endpoint_stops_start_up()
    {
        var result = await StartWith(("Storage__S3__ServiceUrl", "http://127.0.0.1:1"));
        AssertOneClearFailure(result, "Cannot use the document storage: The S3 bucket", "cannot be reached", "Check Storage:S3:ServiceUrl.");
    }

    [Fact]
    public async Task S3_without_a_bucket_is_named()
    {
        var result = await AppProcess.RunUntilExitAsync(new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development", ["Storage__Kind"] = "S3",
        }, TimeSpan.FromSeconds(60));
        AssertOneClearFailure(result, "Storage:Kind is S3 but Storage:S3:Bucket is not set.");
    }

    [Fact]
    public async Task An_unknown_storage_kind_is_named()
    {
        var result = await AppProcess.RunUntilExitAsync(new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development", ["Storage__Kind"] = "Floppy",
        }, TimeSpan.FromSeconds(60));
        AssertOneClearFailure(result, "Storage:Kind 'Floppy' is not known. Use Local or S3.");
    }
}
