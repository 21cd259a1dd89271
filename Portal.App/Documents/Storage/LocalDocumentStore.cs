using System.Security.Cryptography;

namespace Portal.App.Documents.Storage;

/// <summary>
/// Content-addressed local store: a document's bytes live at ab/cd/&lt;sha256&gt; under the root, so the path
/// comes from the content, never from a name, and identical content is stored once. nginx serves the root.
/// </summary>
public sealed class LocalDocumentStore : IDocumentStore
{
    public LocalDocumentStore(string root)
    {
        Root = Path.GetFullPath(root);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string Description => Root;

    public string PathFor(string contentHash) => Path.Combine(Root, DocumentStorage.KeyFor(contentHash));

    /// <summary>
    /// Streams <paramref name="content"/> to a temp file while hashing it, then renames it into place.
    /// A failure leaves nothing behind; content already stored is kept and the temp file dropped.
    /// </summary>
    public async Task<StoredContent> PutAsync(Stream content, CancellationToken ct = default)
    {
        var tempFolder = IncomingFolder;
        Directory.CreateDirectory(tempFolder);
        var tempPath = Path.Combine(tempFolder, Guid.NewGuid().ToString("N"));
        try
        {
            string hash;
            long size;
            await using (var file = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                var buffer = new byte[81920];
                int read;
                while ((read = await content.ReadAsync(buffer, ct)) > 0)
                {
                    sha.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), ct);
                }
                await file.FlushAsync(ct);
                size = file.Length;
                hash = Convert.ToHexStringLower(sha.GetHashAndReset());
            }

            var target = PathFor(hash);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (File.Exists(target)) File.Delete(tempPath);
            else File.Move(tempPath, target);
            return new StoredContent(hash, size);
        }
        catch
        {
            File.Delete(tempPath);
            throw;
        }
    }

    public Task<Stream?> OpenReadAsync(string contentHash, CancellationToken ct = default)
    {
        var path = PathFor(contentHash);
        return Task.FromResult<Stream?>(File.Exists(path)
            ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true)
            : null);
    }

    public Task DeleteAsync(string contentHash, CancellationToken ct = default)
    {
        File.Delete(PathFor(contentHash)); // no error when it is not there
        return Task.CompletedTask;
    }

    /// <summary>The folder uploads are written to before they are complete; never served (see ops/nginx).</summary>
    public string IncomingFolder => Path.Combine(Root, ".incoming");

    /// <summary>
    /// Deletes temp files of uploads that never finished (the app was killed mid-upload) last written before
    /// <paramref name="writtenBefore"/>. Returns how many. Only old ones: another instance on the same storage may
    /// be receiving an upload right now.
    /// </summary>
    public int RemoveAbandonedUploads(DateTimeOffset writtenBefore)
    {
        if (!Directory.Exists(IncomingFolder)) return 0;
        var removed = 0;
        foreach (var file in new DirectoryInfo(IncomingFolder).EnumerateFiles())
        {
            if (file.LastWriteTimeUtc >= writtenBefore.UtcDateTime) continue;
            try { file.Delete(); removed++; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* in use or not ours: left for next time */ }
        }
        return removed;
    }

    public Task CheckWritableAsync(CancellationToken ct = default)
    {
        try
        {
            var probe = Path.Combine(IncomingFolder, $"health-{Guid.NewGuid():N}");
            Directory.CreateDirectory(Path.GetDirectoryName(probe)!);
            File.WriteAllBytes(probe, [1]);
            File.Delete(probe);
            return Task.CompletedTask;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageUnavailableException($"The storage folder {Root} is not writable.", e);
        }
    }
}
