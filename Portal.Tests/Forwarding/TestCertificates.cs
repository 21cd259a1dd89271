using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Portal.Tests.Forwarding;

/// <summary>A throwaway CA and a server certificate it signed (for 127.0.0.1 and localhost), as PEM files in a folder.</summary>
public sealed class TestCertificates
{
    public required string CaPem { get; init; }
    public required string ServerCertPem { get; init; }
    public required string ServerKeyPem { get; init; }
    public required X509Certificate2 Server { get; init; }

    public static TestCertificates Create(string folder)
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=Portal test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        using var serverKey = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var signed = request.Create(ca, now.AddDays(-1), now.AddDays(29), RandomNumberGenerator.GetBytes(8));
        var server = signed.CopyWithPrivateKey(serverKey);

        var files = new TestCertificates
        {
            CaPem = Path.Combine(folder, "ca.pem"),
            ServerCertPem = Path.Combine(folder, "server.pem"),
            ServerKeyPem = Path.Combine(folder, "server-key.pem"),
            // Kestrel on Linux wants a certificate whose key it can use: round-trip through PKCS#12.
            Server = X509CertificateLoader.LoadPkcs12(server.Export(X509ContentType.Pfx, ""), ""),
        };
        File.WriteAllText(files.CaPem, ca.ExportCertificatePem());
        File.WriteAllText(files.ServerCertPem, server.ExportCertificatePem());
        File.WriteAllText(files.ServerKeyPem, serverKey.ExportPkcs8PrivateKeyPem());
        return files;
    }
}
