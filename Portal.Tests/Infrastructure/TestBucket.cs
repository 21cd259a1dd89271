using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// A bucket of its own on the run's S3 server (Ceph radosgw from ./test.sh), emptied and removed at the end,
/// plus the app settings that store documents in it.
/// </summary>
public sealed class TestBucket : IAsyncDisposable
{
    private TestBucket(string name, AmazonS3Client client) => (Name, Client) = (name, client);

    public string Name { get; }
    public AmazonS3Client Client { get; }
    public static string Endpoint => TestEnvironment.S3Endpoint ?? throw new InvalidOperationException("PORTAL_TEST_S3 is not set: run ./test.sh, which starts Ceph radosgw.");

    public static AmazonS3Client NewClient(string? endpoint = null, string? accessKey = null, string? secretKey = null) => new(
        new BasicAWSCredentials(accessKey ?? TestEnvironment.S3AccessKey, secretKey ?? TestEnvironment.S3SecretKey),
        new AmazonS3Config
        {
            ServiceURL = endpoint ?? Endpoint, ForcePathStyle = true, AuthenticationRegion = "us-east-1",
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });

    public static async Task<TestBucket> CreateAsync()
    {
        var client = NewClient();
        var name = $"portal-test-{Guid.NewGuid():N}"[..40];
        await client.PutBucketAsync(name);
        return new TestBucket(name, client);
    }

    /// <summary>The app settings for Storage:Kind=S3 on this bucket (through <paramref name="endpoint"/> if given).</summary>
    public Dictionary<string, string?> Settings(string? endpoint = null, int partSizeMiB = 5) => new()
    {
        ["Storage:Kind"] = "S3",
        ["Storage:S3:ServiceUrl"] = endpoint ?? Endpoint,
        ["Storage:S3:Bucket"] = Name,
        ["Storage:S3:Region"] = "us-east-1",
        ["Storage:S3:AccessKey"] = TestEnvironment.S3AccessKey,
        ["Storage:S3:SecretKey"] = TestEnvironment.S3SecretKey,
        ["Storage:S3:ForcePathStyle"] = "true",
        ["Storage:S3:PartSizeMiB"] = partSizeMiB.ToString(),
    };

    /// <summary>Every object key in the bucket.</summary>
    public async Task<List<string>> KeysAsync()
    {
        var keys = new List<string>();
        var request = new ListObjectsV2Request { BucketName = Name };
        ListObjectsV2Response page;
        do
        {
            page = await Client.ListObjectsV2Async(request);
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key));
            request.ContinuationToken = page.NextContinuationToken;
        } while (page.IsTruncated == true);
        return keys;
    }

    /// <summary>Multipart uploads begun and neither completed nor aborted (they hold storage).</summary>
    public async Task<int> PendingUploadsAsync() =>
        (await Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = Name })).MultipartUploads?.Count ?? 0;

    public async ValueTask DisposeAsync()
    {
        try
        {
            foreach (var key in await KeysAsync()) await Client.DeleteObjectAsync(Name, key);
            await Client.DeleteBucketAsync(Name);
        }
        catch (AmazonServiceException) { } // the server may be gone already at the end of the run
        Client.Dispose();
    }
}
