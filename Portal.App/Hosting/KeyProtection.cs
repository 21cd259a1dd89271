using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.DataProtection;

namespace Portal.App.Hosting;

/// <summary>
/// The keys that encrypt session cookies and antiforgery tokens live in the database (every instance shares them).
/// With "DataProtection:CertificatePath" (a PKCS#12 file with its private key; "DataProtection:CertificatePassword"
/// if it has one) they are stored encrypted with that certificate, so reading the database is not enough to forge a
/// cookie. Without it they are stored as they are, which only Development allows.
/// </summary>
public static class KeyProtection
{
    public const string PathKey = "DataProtection:CertificatePath";
    public const string PasswordKey = "DataProtection:CertificatePassword";

    /// <summary>The certificate from the settings, or null when none is set; a bad file stops start-up with one line.</summary>
    public static X509Certificate2? Certificate(IConfiguration config)
    {
        var path = config[PathKey];
        if (string.IsNullOrWhiteSpace(path)) return null;
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, config[PasswordKey], X509KeyStorageFlags.EphemeralKeySet);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            // The message names the file, never the password.
            throw new StartupException($"{PathKey} '{path}' could not be read as a PKCS#12 certificate (wrong file or {PasswordKey}?): {e.Message}");
        }
        if (!certificate.HasPrivateKey)
            throw new StartupException($"{PathKey} '{path}' has no private key: the keys it protects could not be read back.");
        return certificate;
    }

    /// <summary>
    /// The certificate from the settings; outside Development there must be one, because keys stored as they are let
    /// anyone who can read the database forge a session cookie.
    /// </summary>
    public static X509Certificate2? Required(IConfiguration config, IHostEnvironment environment)
    {
        var certificate = Certificate(config);
        if (certificate is null && !environment.IsDevelopment())
            throw new StartupException($"{PathKey} is not set: outside Development the keys that encrypt session cookies are " +
                $"stored encrypted with a certificate. Set {PathKey} to a PKCS#12 file with its private key (and {PasswordKey} if it has one).");
        return certificate;
    }

    public static IDataProtectionBuilder ProtectKeysWith(this IDataProtectionBuilder builder, X509Certificate2? certificate) =>
        certificate is null ? builder : builder.ProtectKeysWithCertificate(certificate).UnprotectKeysWithAnyCertificate(certificate);

    /// <summary>For the SettingsChanged audit: whether keys are encrypted at rest, and with which certificate (its thumbprint).</summary>
    public static string Describe(X509Certificate2? certificate) =>
        certificate is null ? "not encrypted" : $"encrypted with certificate {certificate.Thumbprint}";
}
