using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Portal.App.Audit;
using Portal.App.Hosting;
using Portal.Data.Audit;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Audit;

/// <summary>
/// The anchors outside the database, on the real parts: a signed head sent to rsyslog (RFC 5424 over TCP) lands in its
/// file as the same JSON line the anchor file holds, and verifies with the public key. And the server refuses to
/// start outside Development without a signing key, with one clear line.
/// </summary>
public sealed class AuditAnchorTests
{
    [Fact]
    public async Task A_signed_head_sent_to_rsyslog_arrives_whole_and_verifies_with_the_public_key()
    {
        var run = TestEnvironment.NewTempFolder("rsyslog");
        var port = FreePort();
        var received = Path.Combine(run, "heads.log");
        await File.WriteAllTextAsync(Path.Combine(run, "rsyslog.conf"), $$"""
            global(workDirectory="{{run}}")
            module(load="imtcp")
            template(name="message" type="string" string="%msg%\n")
            input(type="imtcp" port="{{port}}" address="127.0.0.1" ruleset="heads")
            ruleset(name="heads") { action(type="omfile" file="{{received}}" template="message") }
            """);
        using var rsyslog = Process.Start(new ProcessStartInfo("rsyslogd", ["-n", "-f", Path.Combine(run, "rsyslog.conf"), "-i", Path.Combine(run, "rsyslog.pid")])
        {
            RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
        })!;
        try
        {
            await WaitForPortAsync(port);
            using var key = AuditHeadSigner.FromPem(AuditHeadSigner.NewPrivateKeyPem());
            var head = key.Sign(42, new string('c', 64), DateTimeOffset.UtcNow);

            await new AuditSyslogAnchor($"127.0.0.1:{port}").WriteAsync(head, default);

            var deadline = DateTime.UtcNow.AddSeconds(20);
            while ((!File.Exists(received) || (await File.ReadAllTextAsync(received)).Length == 0) && DateTime.UtcNow < deadline) await Task.Delay(100);
            var line = Assert.Single((await File.ReadAllTextAsync(received)).Split('\n', StringSplitOptions.RemoveEmptyEntries)).Trim();
            Assert.Equal(AuditHeadLine.Format(head), line);
            var back = AuditHeadLine.Parse(line)!;
            using var publicKey = AuditHeadSigner.FromPem(key.PublicKeyPem());
            Assert.True(publicKey.Verify(back));
            Assert.Equal((42L, head.EventHash), (back.EventId, back.EventHash));
        }
        finally
        {
            rsyslog.Kill(entireProcessTree: true);
            await rsyslog.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Outside_development_the_server_refuses_to_start_without_a_signing_key_naming_the_setting()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection().Build();
        var env = new Microsoft.Extensions.Hosting.Internal.HostingEnvironment
        {
            EnvironmentName = "Production", ContentRootPath = TestEnvironment.NewTempFolder("production"),
        };
        var keys = new AuditSigningKeys(config, env);
        Assert.Null(keys.Signer);
        Assert.False(File.Exists(Path.Combine(env.ContentRootPath, "App_Data", "audit-signing-key.pem"))); // none generated
        using var signing = new AuditHeadSigning(keys, null!, null!, [], Options.Create(new AuditSigningOptions()), TimeProvider.System,
            NullLogger<AuditHeadSigning>.Instance);
        var refused = await Assert.ThrowsAsync<StartupException>(() => signing.StartAsync(default));
        Assert.StartsWith("Audit:SigningKeyPath is not set.", refused.Message);
        Assert.DoesNotContain("\n", refused.Message);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task WaitForPortAsync(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline) { await Task.Delay(100); }
        }
    }
}

/// <summary>
/// The optional bucket anchor on Ceph's radosgw: a bucket created with object lock takes each signed head in
/// COMPLIANCE mode; the head reads back whole and cannot be deleted before its retain-until date.
/// </summary>
public sealed class AuditBucketAnchorTests
{
    [S3Fact]
    public async Task A_signed_head_in_an_object_locked_bucket_reads_back_and_cannot_be_deleted()
    {
        using var client = TestBucket.NewClient();
        var bucket = $"portal-anchor-{Guid.NewGuid():N}"[..40];
        await client.PutBucketAsync(new Amazon.S3.Model.PutBucketRequest { BucketName = bucket, ObjectLockEnabledForBucket = true });
        using var key = AuditHeadSigner.FromPem(AuditHeadSigner.NewPrivateKeyPem());
        var head = key.Sign(7, new string('d', 64), DateTimeOffset.UtcNow);
        var anchor = new AuditBucketAnchor(new Portal.App.Documents.Storage.S3StorageOptions
        {
            ServiceUrl = TestBucket.Endpoint, AccessKey = TestEnvironment.S3AccessKey, SecretKey = TestEnvironment.S3SecretKey,
            ForcePathStyle = true, Region = "us-east-1",
        }, bucket, retentionDays: 1);

        await anchor.WriteAsync(head, default);

        var objectKey = AuditBucketAnchor.KeyFor(head);
        using var read = await client.GetObjectAsync(bucket, objectKey);
        Assert.Equal(Amazon.S3.ObjectLockMode.Compliance, read.ObjectLockMode);
        using var reader = new StreamReader(read.ResponseStream);
        var back = AuditHeadLine.Parse(await reader.ReadToEndAsync())!;
        Assert.True(AuditHeadSigner.FromPem(key.PublicKeyPem()).Verify(back));

        // The bucket's owner cannot remove the version that holds the head.
        var refused = await Assert.ThrowsAsync<Amazon.S3.AmazonS3Exception>(() =>
            client.DeleteObjectAsync(new Amazon.S3.Model.DeleteObjectRequest { BucketName = bucket, Key = objectKey, VersionId = read.VersionId }));
        Assert.Equal("AccessDenied", refused.ErrorCode);
    }
}
