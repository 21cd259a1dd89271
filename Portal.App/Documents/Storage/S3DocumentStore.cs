using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Portal.App.Documents.Storage;

/// <summary>
/// Content-addressed store in an S3-compatible bucket: objects at [prefix]ab/cd/&lt;sha256&gt;. Uploads stream
/// in (hashed on the way; in parts when large), downloads are handed to nginx as a short-lived presigned URL
/// that only nginx ever sees.
/// </summary>
public sealed class S3DocumentStore : IDocumentStore, IDisposable
{
    /// <summary>CopyObject's limit; larger objects are copied in parts.</summary>
    private const long SingleCopyLimit = 5L * 1024 * 1024 * 1024;

    private readonly IAmazonS3 _client;
    private readonly S3StorageOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<S3DocumentStore> _log;
    private readonly bool _plainHttp;

    public S3DocumentStore(S3StorageOptions options, TimeProvider clock, ILogger<S3DocumentStore> log)
    {
        _options = options;
        _clock = clock;
        _log = log;
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            AuthenticationRegion = options.Region,
            // The SDK's default (a checksum on every request) is refused by several S3-compatible servers (Ceph).
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            Timeout = TimeSpan.FromMinutes(5),
            MaxErrorRetry = 2,
        };
        if (!string.IsNullOrWhiteSpace(options.ServiceUrl)) config.ServiceURL = options.ServiceUrl;
        else config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
        _plainHttp = options.ServiceUrl?.StartsWith("http://", StringComparison.OrdinalIgnoreCase) == true;
        _client = string.IsNullOrWhiteSpace(options.AccessKey)
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
    }

    public string Bucket => _options.Bucket!;

    public string Description => $"S3 bucket '{Bucket}' at {(string.IsNullOrWhiteSpace(_options.ServiceUrl) ? $"AWS {_options.Region}" : _options.ServiceUrl)}";

    /// <summary>The object key of a content hash: [prefix]ab/cd/&lt;sha256&gt;.</summary>
    public string ObjectKey(string contentHash) => (_options.KeyPrefix ?? "") + DocumentStorage.KeyFor(contentHash);

    private string IncomingKey() => $"{_options.KeyPrefix}.incoming/{Guid.NewGuid():N}";

    /// <summary>
    /// A URL that lets its holder GET (or HEAD) one object for <see cref="S3StorageOptions.PresignSeconds"/>.
    /// Given to nginx only, in a response header nginx never passes on.
    /// </summary>
    public string PresignedUrl(string contentHash, bool head, TimeSpan? lifetime = null) =>
        _client.GetPreSignedURL(new GetPreSignedUrlRequest
        {
            BucketName = Bucket,
            Key = ObjectKey(contentHash),
            Verb = head ? HttpVerb.HEAD : HttpVerb.GET,
            Expires = _clock.GetUtcNow().UtcDateTime + (lifetime ?? TimeSpan.FromSeconds(_options.PresignSeconds)),
            Protocol = _plainHttp ? Protocol.HTTP : Protocol.HTTPS,
        });

    /// <summary>
    /// Small content (one part) is hashed in memory and put under its hash. Larger content goes up as a
    /// multipart upload to a temporary key while it is hashed, then is copied to its hash inside the bucket.
    /// A failure aborts the upload and removes the temporary object; content already stored is kept.
    /// </summary>
    public async Task<StoredContent> PutAsync(Stream content, CancellationToken ct = default)
    {
        var partSize = _options.PartSizeMiB * 1024 * 1024;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var current = ArrayPool<byte>.Shared.Rent(partSize);
        var next = ArrayPool<byte>.Shared.Rent(partSize);
        try
        {
            var filled = await FillAsync(content, current, partSize, ct);
            sha.AppendData(current, 0, filled);
            if (filled < partSize)
            {
                var hash = Convert.ToHexStringLower(sha.GetHashAndReset());
                if (!await ExistsAsync(ObjectKey(hash), ct))
                    await _client.PutObjectAsync(new PutObjectRequest
                    {
                        BucketName = Bucket, Key = ObjectKey(hash), InputStream = new MemoryStream(current, 0, filled, writable: false),
                        AutoCloseStream = false, ContentType = "application/octet-stream",
                    }, ct);
                return new StoredContent(hash, filled);
            }

            var temp = IncomingKey();
            var upload = await _client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest
            {
                BucketName = Bucket, Key = temp, ContentType = "application/octet-stream",
            }, ct);
            long size = 0;
            string contentHash;
            try
            {
                var parts = new List<PartETag>();
                // Upload one part while reading the next, so the client and the bucket work at the same time.
                while (filled > 0)
                {
                    var partNumber = parts.Count + 1;
                    var sending = _client.UploadPartAsync(new UploadPartRequest
                    {
                        BucketName = Bucket, Key = temp, UploadId = upload.UploadId, PartNumber = partNumber,
                        InputStream = new MemoryStream(current, 0, filled, writable: false), PartSize = filled,
                    }, ct);
                    size += filled;
                    int nextFilled;
                    try
                    {
                        nextFilled = await FillAsync(content, next, partSize, ct);
                        sha.AppendData(next, 0, nextFilled);
                    }
                    finally
                    {
                        // never leave a part upload running on a buffer we give back (its error is rethrown below)
                        try { await sending; } catch { }
                    }
                    parts.Add(new PartETag(partNumber, (await sending).ETag));
                    (current, next, filled) = (next, current, nextFilled);
                }
                contentHash = Convert.ToHexStringLower(sha.GetHashAndReset());
                await _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
                {
                    BucketName = Bucket, Key = temp, UploadId = upload.UploadId, PartETags = parts,
                }, ct);
            }
            catch
            {
                await AbortQuietlyAsync(temp, upload.UploadId);
                throw;
            }

            try
            {
                if (!await ExistsAsync(ObjectKey(contentHash), ct)) await CopyAsync(temp, ObjectKey(contentHash), size, ct);
            }
            finally
            {
                await DeleteQuietlyAsync(temp);
            }
            return new StoredContent(contentHash, size);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(current);
            ArrayPool<byte>.Shared.Return(next);
        }
    }

    public async Task<Stream?> OpenReadAsync(string contentHash, CancellationToken ct = default)
    {
        try
        {
            var key = ObjectKey(contentHash);
            var response = await _client.GetObjectAsync(Bucket, key, ct);
            return new ObjectStream(this, key, response);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode == "NoSuchKey")
        {
            return null;
        }
    }

    // S3 answers 204 whether or not the key existed.
    public Task DeleteAsync(string contentHash, CancellationToken ct = default) => _client.DeleteObjectAsync(Bucket, ObjectKey(contentHash), ct);

    /// <summary>Puts and deletes a one-byte probe: proves the keys, the bucket and the write right in one go.</summary>
    public async Task CheckWritableAsync(CancellationToken ct = default)
    {
        var probe = $"{_options.KeyPrefix}.incoming/health-{Guid.NewGuid():N}";
        try
        {
            await _client.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = probe, InputStream = new MemoryStream([1]) }, ct);
            await _client.DeleteObjectAsync(Bucket, probe, ct);
        }
        catch (AmazonS3Exception e)
        {
            throw new StorageUnavailableException(e.ErrorCode switch
            {
                "NoSuchBucket" => $"The {Description} does not exist. Create it, or check Storage:S3:Bucket.",
                "InvalidAccessKeyId" => $"The {Description} does not know the access key. Check Storage:S3:AccessKey and Storage:S3:SecretKey.",
                "SignatureDoesNotMatch" => $"The {Description} refused the secret key. Check Storage:S3:SecretKey.",
                "AccessDenied" => $"The {Description} refused to let these keys write. Give them read and write rights on the bucket.",
                _ => $"The {Description} answered {(int)e.StatusCode} {e.ErrorCode}: {e.Message}",
            }, e);
        }
        catch (Exception e) when (e is HttpRequestException or AmazonServiceException or AmazonClientException or IOException
                                      or TaskCanceledException && !ct.IsCancellationRequested)
        {
            throw new StorageUnavailableException($"The {Description} cannot be reached: {Innermost(e).Message} Check Storage:S3:ServiceUrl.", e);
        }
    }

    private async Task<bool> ExistsAsync(string key, CancellationToken ct)
    {
        try
        {
            await _client.GetObjectMetadataAsync(Bucket, key, ct);
            return true;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    private async Task CopyAsync(string from, string to, long size, CancellationToken ct)
    {
        if (size <= SingleCopyLimit)
        {
            await _client.CopyObjectAsync(new CopyObjectRequest
            {
                SourceBucket = Bucket, SourceKey = from, DestinationBucket = Bucket, DestinationKey = to, ContentType = "application/octet-stream",
            }, ct);
            return;
        }
        // Above 5 GiB S3 copies only in parts.
        var upload = await _client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = Bucket, Key = to }, ct);
        try
        {
            const long copyPart = 1L * 1024 * 1024 * 1024;
            var parts = new List<PartETag>();
            for (long first = 0; first < size; first += copyPart)
            {
                var part = await _client.CopyPartAsync(new CopyPartRequest
                {
                    SourceBucket = Bucket, SourceKey = from, DestinationBucket = Bucket, DestinationKey = to, UploadId = upload.UploadId,
                    PartNumber = parts.Count + 1, FirstByte = first, LastByte = Math.Min(first + copyPart, size) - 1,
                }, ct);
                parts.Add(new PartETag(part.PartNumber ?? parts.Count + 1, part.ETag));
            }
            await _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = Bucket, Key = to, UploadId = upload.UploadId, PartETags = parts,
            }, ct);
        }
        catch
        {
            await AbortQuietlyAsync(to, upload.UploadId);
            throw;
        }
    }

    /// <summary>Clean-up after a failure: not cancelled by the failed request, and its own failure only logged.</summary>
    private async Task AbortQuietlyAsync(string key, string uploadId)
    {
        try { await _client.AbortMultipartUploadAsync(Bucket, key, uploadId, CancellationToken.None); }
        catch (Exception e) when (e is AmazonServiceException or HttpRequestException or IOException)
        {
            _log.LogWarning("Could not abort the failed multipart upload {UploadId} to {Key}: {Error}", uploadId, key, e.Message);
        }
    }

    private async Task DeleteQuietlyAsync(string key)
    {
        try { await _client.DeleteObjectAsync(Bucket, key, CancellationToken.None); }
        catch (Exception e) when (e is AmazonServiceException or HttpRequestException or IOException)
        {
            _log.LogWarning("Could not delete the temporary object {Key}: {Error}", key, e.Message);
        }
    }

    private static async Task<int> FillAsync(Stream content, byte[] buffer, int count, CancellationToken ct)
    {
        var filled = 0;
        int read;
        while (filled < count && (read = await content.ReadAsync(buffer.AsMemory(filled, count - filled), ct)) > 0) filled += read;
        return filled;
    }

    private static Exception Innermost(Exception e) => e.InnerException is null ? e : Innermost(e.InnerException);

    public void Dispose() => _client.Dispose();

    /// <summary>
    /// The object's body, seekable so that Direct delivery answers Range requests: the first GET (which proved the
    /// object is there and gave its length) is read from the start; a seek elsewhere, which is what Range processing
    /// does before it copies, drops it, and the next read asks the bucket from there on (a ranged GET).
    /// Disposing it also releases the response (and its connection).
    /// </summary>
    private sealed class ObjectStream(S3DocumentStore store, string key, GetObjectResponse first) : Stream
    {
        private GetObjectResponse? _response = first;
        private long _position;

        public override long Length { get; } = first.ContentLength;
        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Position { get => _position; set => Seek(value, SeekOrigin.Begin); }

        public override long Seek(long offset, SeekOrigin origin)
        {
            var target = origin switch
            {
                SeekOrigin.Begin => offset,
                SeekOrigin.Current => _position + offset,
                SeekOrigin.End => Length + offset,
                _ => throw new ArgumentOutOfRangeException(nameof(origin)),
            };
            ArgumentOutOfRangeException.ThrowIfNegative(target, nameof(offset));
            if (target == _position) return _position;
            _response?.Dispose();
            _response = null;
            return _position = target;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            if (_position >= Length || buffer.IsEmpty) return 0;
            _response ??= await store._client.GetObjectAsync(new GetObjectRequest
            {
                BucketName = store.Bucket, Key = key, ByteRange = new ByteRange(_position, Length - 1),
            }, ct);
            var read = await _response.ResponseStream.ReadAsync(buffer, ct);
            _position += read;
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();
        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) _response?.Dispose();
            base.Dispose(disposing);
        }
    }
}
