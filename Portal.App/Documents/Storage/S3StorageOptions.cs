using Portal.App.Hosting;

namespace Portal.App.Documents.Storage;

/// <summary>"Storage:S3": an S3-compatible bucket (AWS S3, Ceph radosgw, MinIO…), used when Storage:Kind is S3.</summary>
public sealed class S3StorageOptions
{
    public const string Section = "Storage:S3";

    /// <summary>The S3 API endpoint (http(s)://host:port). Empty: AWS S3 in <see cref="Region"/>.</summary>
    public string? ServiceUrl { get; set; }
    public string? Bucket { get; set; }
    public string Region { get; set; } = "us-east-1";
    /// <summary>Empty access and secret key: the AWS SDK's usual sources (environment, instance role…).</summary>
    public string? AccessKey { get; set; }
    public string? SecretKey { get; set; }
    /// <summary>endpoint/bucket/key instead of bucket.endpoint/key: radosgw and MinIO usually need it.</summary>
    public bool ForcePathStyle { get; set; }
    /// <summary>Put every object under this prefix (for example "portal/"); keys stay content hashes.</summary>
    public string? KeyPrefix { get; set; }
    /// <summary>How long the URL nginx fetches a download from stays valid. nginx uses it at once; keep it short.</summary>
    public int PresignSeconds { get; set; } = 60;
    /// <summary>Uploads larger than this go up in parts of this size (MiB, at least 5: S3's minimum part).</summary>
    public int PartSizeMiB { get; set; } = 16;

    /// <summary>The settings, checked: a wrong one stops start-up with a message saying which.</summary>
    public static S3StorageOptions Read(IConfiguration config)
    {
        var options = config.GetSection(Section).Get<S3StorageOptions>() ?? new S3StorageOptions();
        if (string.IsNullOrWhiteSpace(options.Bucket))
            throw new StartupException("Storage:Kind is S3 but Storage:S3:Bucket is not set.");
        if (!string.IsNullOrWhiteSpace(options.ServiceUrl)
            && (!Uri.TryCreate(options.ServiceUrl, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https")))
            throw new StartupException($"Storage:S3:ServiceUrl '{options.ServiceUrl}' is not an http(s) URL.");
        if (string.IsNullOrWhiteSpace(options.AccessKey) != string.IsNullOrWhiteSpace(options.SecretKey))
            throw new StartupException("Set both Storage:S3:AccessKey and Storage:S3:SecretKey, or neither (to use the AWS SDK's default credentials).");
        if (options.PresignSeconds is < 1 or > 3600)
            throw new StartupException($"Storage:S3:PresignSeconds is {options.PresignSeconds}; use 1 to 3600 (nginx uses the URL at once).");
        if (options.PartSizeMiB is < 5 or > 1024)
            throw new StartupException($"Storage:S3:PartSizeMiB is {options.PartSizeMiB}; use 5 to 1024.");
        if (options.KeyPrefix is { Length: > 0 } prefix && (prefix.StartsWith('/') || prefix.Contains("..") || prefix.Any(char.IsControl)))
            throw new StartupException($"Storage:S3:KeyPrefix '{prefix}' may not start with '/' or contain '..' or control characters.");
        return options;
    }
}
