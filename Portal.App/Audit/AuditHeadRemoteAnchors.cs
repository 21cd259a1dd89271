using System.Net.Sockets;
using System.Text;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Portal.App.Documents.Storage;
using Portal.Data.Audit;

namespace Portal.App.Audit;

/// <summary>
/// Optional anchor: each head as one RFC 5424 message over TCP (newline-framed, as rsyslog's imtcp reads it) to
/// Audit:AnchorSyslog (host:port), so a log host the database's owner does not control keeps a copy.
/// </summary>
public sealed class AuditSyslogAnchor(string hostAndPort) : IAuditHeadAnchor
{
    public string Name => $"syslog tcp://{hostAndPort}";

    public async Task WriteAsync(AuditSignedHead head, CancellationToken ct)
    {
        var colon = hostAndPort.LastIndexOf(':');
        var host = hostAndPort[..colon];
        var port = int.Parse(hostAndPort[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(host, port, ct);
        await using var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(Format(head)), ct);
        await stream.FlushAsync(ct);
    }

    /// <summary>&lt;133&gt; is local0.notice; the message is the head's JSON line.</summary>
    public static string Format(AuditSignedHead head) =>
        $"<133>1 {head.SignedAt.UtcDateTime:yyyy-MM-ddTHH:mm:ss.ffffffZ} {Environment.MachineName} portal - audit-head - {AuditHeadLine.Format(head)}\n";
}

/// <summary>
/// Optional anchor: each head as an object in a bucket with S3 object lock (Audit:AnchorBucket; the endpoint and keys
/// of Storage:S3). The object is put in COMPLIANCE mode with a retain-until date, so not even the bucket's owner can
/// delete or overwrite it before then (where the server enforces object lock).
/// </summary>
public sealed class AuditBucketAnchor : IAuditHeadAnchor
{
    private readonly IAmazonS3 _client;
    private readonly string _bucket;
    private readonly int _retentionDays;

    public AuditBucketAnchor(S3StorageOptions s3, string bucket, int retentionDays)
    {
        _bucket = bucket;
        _retentionDays = retentionDays;
        var config = new AmazonS3Config
        {
            ForcePathStyle = s3.ForcePathStyle, AuthenticationRegion = s3.Region,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (!string.IsNullOrWhiteSpace(s3.ServiceUrl)) config.ServiceURL = s3.ServiceUrl;
        else config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(s3.Region);
        _client = string.IsNullOrWhiteSpace(s3.AccessKey) ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(s3.AccessKey, s3.SecretKey), config);
    }

    public string Name => $"bucket {_bucket}";

    /// <summary>Heads sort by event id: audit-heads/00000000000000001234-keyid-ticks.json.</summary>
    public static string KeyFor(AuditSignedHead head) => $"audit-heads/{head.EventId:D20}-{head.KeyId}-{head.SignedAt.UtcTicks}.json";

    public async Task WriteAsync(AuditSignedHead head, CancellationToken ct)
    {
        await _client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _bucket, Key = KeyFor(head), ContentBody = AuditHeadLine.Format(head), ContentType = "application/json",
            ObjectLockMode = ObjectLockMode.Compliance, ObjectLockRetainUntilDate = head.SignedAt.UtcDateTime.AddDays(_retentionDays),
            // Object lock requires a Content-MD5 (or a checksum) on the PUT.
            MD5Digest = Convert.ToBase64String(System.Security.Cryptography.MD5.HashData(Encoding.UTF8.GetBytes(AuditHeadLine.Format(head)))),
        }, ct);
    }
}
