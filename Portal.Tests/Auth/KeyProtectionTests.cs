using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Portal.App.Hosting;
using Portal.Data.Database;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Auth;

/// <summary>
/// The keys that encrypt session cookies live in the database; with DataProtection:CertificatePath they are stored
/// encrypted with that certificate, so a copy of the database is not enough to forge a cookie.
/// </summary>
public sealed class KeyProtectionTests : IAsyncDisposable
{
    private const string Password = "pfx-password-93";
    private readonly TestDatabase database = new SqliteTestDatabase();
    private readonly string pfx = Path.Combine(TestEnvironment.NewTempFolder("key-protection"), "keys.pfx");
    private readonly X509Certificate2 certificate;

    public KeyProtectionTests()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=Portal data protection (test)", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        File.WriteAllBytes(pfx, certificate.Export(X509ContentType.Pkcs12, Password));
    }

    private Dictionary<string, string?> WithCertificate() => new()
    {
        [KeyProtection.PathKey] = pfx,
        [KeyProtection.PasswordKey] = Password,
    };

    [Fact]
    public async Task With_a_certificate_the_stored_keys_are_encrypted_and_a_restarted_app_still_reads_its_cookies()
    {
        // Cookies are per host, not per port: the restarted app (on another port) gets the same session cookie.
        var cookies = new CookieContainer();
        await using (var first = new PortalHost(database, seedDemo: true, settings: WithCertificate()))
        {
            using var client = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = first.StartOnKestrel() };
            await SignIn.AsDemoUserAsync(client, "staff");
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/")).StatusCode);

            var keys = await first.WithDbAsync(db => db.DataProtectionKeys.AsNoTracking().Select(k => k.Xml).ToListAsync());
            Assert.NotEmpty(keys);
            foreach (var xml in keys)
            {
                // The key's secret is an XML-encryption block for this certificate (named by its bytes), not the key itself.
                Assert.Contains("<EncryptedData", xml);
                Assert.Contains(Convert.ToBase64String(certificate.RawData)[..60], xml);
                Assert.DoesNotContain("<masterKey", xml);
            }
        }

        // A new app on the same database and certificate decrypts the stored key, so the person is still signed in.
        await using var second = new PortalHost(database, settings: WithCertificate());
        using var again = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = second.StartOnKestrel() };
        var page = await again.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Sam Staff", await page.Content.ReadAsStringAsync());
    }

    [Fact]
    public void A_wrong_password_stops_start_up_with_a_line_that_names_the_file_but_not_the_password()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [KeyProtection.PathKey] = pfx,
            [KeyProtection.PasswordKey] = "not-the-password-55",
        }).Build();

        var e = Assert.Throws<StartupException>(() => KeyProtection.Certificate(config));

        Assert.Contains(pfx, e.Message);
        Assert.DoesNotContain("not-the-password-55", e.Message);
    }

    [Fact]
    public void The_settings_audit_says_the_keys_are_encrypted_and_with_which_certificate_never_the_password()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(WithCertificate()).Build();
        var settings = new PortalSettings(DatabaseProvider.Sqlite, "Data Source=x.db", false, "/unused", DeliveryMode.Direct, false, null, true);

        var effective = SettingsAudit.Effective(config, settings);

        Assert.Equal($"encrypted with certificate {certificate.Thumbprint}", effective["DataProtection:KeysAtRest"]);
        Assert.DoesNotContain(Password, string.Join("\n", effective.Select(kv => kv.Key + "=" + kv.Value)));
        var none = SettingsAudit.Effective(new ConfigurationBuilder().Build(), settings);
        Assert.Equal("not encrypted", none["DataProtection:KeysAtRest"]);
    }

    public async ValueTask DisposeAsync()
    {
        certificate.Dispose();
        await database.DisposeAsync();
    }
}
