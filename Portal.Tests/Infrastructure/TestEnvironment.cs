namespace Portal.Tests.Infrastructure;

/// <summary>
/// What the test run provides (./test.sh sets these). PostgreSQL tests fail with a clear message without it.
/// Outside CI a missing nginx or Chromium skips its tests with the reason; under CI (CI=true) nothing is
/// skipped: a missing part fails the tests that need it.
/// </summary>
public static class TestEnvironment
{
    public static string? PostgresConnectionString => Environment.GetEnvironmentVariable("PORTAL_TEST_POSTGRES");
    public static string? NginxPath => Find("PORTAL_TEST_NGINX", "/usr/sbin/nginx");
    public static string? ChromiumPath => Find("PORTAL_TEST_CHROMIUM", "/usr/bin/chromium");
    /// <summary>Portal.App published as the Dockerfile publishes it (test.sh does that and sets the folder).</summary>
    public static string? PublishedAppDir =>
        Environment.GetEnvironmentVariable("PORTAL_TEST_PUBLISHED_APP") is { Length: > 0 } dir && File.Exists(Path.Combine(dir, "Portal.App.dll")) ? dir : null;
    /// <summary>An S3 API endpoint (./test.sh starts Ceph radosgw and sets it) with keys that may create buckets.</summary>
    public static string? S3Endpoint => Environment.GetEnvironmentVariable("PORTAL_TEST_S3") is { Length: > 0 } s3 ? s3 : null;
    public static string S3AccessKey => Environment.GetEnvironmentVariable("PORTAL_TEST_S3_ACCESS_KEY") ?? "PORTALKEY";
    public static string S3SecretKey => Environment.GetEnvironmentVariable("PORTAL_TEST_S3_SECRET_KEY") ?? "PORTALSECRET";
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>A folder for this run's temporary files; world-traversable because nginx workers run as nobody.</summary>
    public static string NewTempFolder(string purpose)
    {
        var root = Environment.GetEnvironmentVariable("PORTAL_TEST_RUN_DIR") is { Length: > 0 } run ? run : Path.GetTempPath();
        var path = Path.Combine(root, $"{purpose}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        return path;
    }

    private static string? Find(string variable, string fallback)
    {
        var configured = Environment.GetEnvironmentVariable(variable);
        if (!string.IsNullOrEmpty(configured)) return File.Exists(configured) ? configured : null;
        return File.Exists(fallback) ? fallback : null;
    }

    internal static string? SkipReason(bool available, string what) =>
        available || IsCi ? null : $"{what} is not available here; ./test.sh installs and starts it.";
}

/// <summary>A test of the published app (see <see cref="TestEnvironment.PublishedAppDir"/>).</summary>
public sealed class PublishedAppFactAttribute : FactAttribute
{
    public PublishedAppFactAttribute() => Skip = TestEnvironment.SkipReason(TestEnvironment.PublishedAppDir is not null, "the published app");
}

/// <summary>A test that needs the nginx binary.</summary>
public sealed class NginxFactAttribute : FactAttribute
{
    public NginxFactAttribute() => Skip = TestEnvironment.SkipReason(TestEnvironment.NginxPath is not null, "nginx");
}

/// <summary>A test that needs the S3 server (and nginx, for delivery through it).</summary>
public sealed class S3FactAttribute : FactAttribute
{
    public S3FactAttribute() => Skip = TestEnvironment.SkipReason(
        TestEnvironment.S3Endpoint is not null && TestEnvironment.NginxPath is not null, "The S3 server (Ceph radosgw) or nginx");
}

/// <summary>A test that needs Chromium.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute() => Skip = TestEnvironment.SkipReason(TestEnvironment.ChromiumPath is not null, "Chromium");
}

/// <summary>A theory that needs the nginx binary.</summary>
public sealed class NginxTheoryAttribute : TheoryAttribute
{
    public NginxTheoryAttribute() => Skip = TestEnvironment.SkipReason(TestEnvironment.NginxPath is not null, "nginx");
}

/// <summary>A theory that needs Chromium (and, where the class says so, nginx).</summary>
public sealed class ChromiumTheoryAttribute : TheoryAttribute
{
    public ChromiumTheoryAttribute() => Skip = TestEnvironment.SkipReason(
        TestEnvironment.ChromiumPath is not null && TestEnvironment.NginxPath is not null, "Chromium and nginx");
}
