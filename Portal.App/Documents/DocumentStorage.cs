using System.Security.Cryptography;

namespace Portal.App.Documents;

/// <summary>What was stored: the content hash (also the storage key) and the size.</summary>
public sealed record StoredContent(string ContentHash, long Size);

/// <summary>
/// Content-addressed local store: a document's bytes live at ab/cd/&lt;sha256&gt; under the root, so the path
/// comes from the content, never from a name, and identical content is stored once.
/// </summary>
public sealed class DocumentStorage
{
    public DocumentStorage(string root)
    {
        Root = Path.GetFullPath(root);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    /// <summary>The relative key "ab/cd/&lt;hash&gt;" for a SHA-256 in lowercase hex.</summary>
    public static string KeyFor(string contentHash)
    {
        if (!IsContentHash(contentHash)) throw new ArgumentException("Not a SHA-256 content hash.", nameof(contentHash));
        return $"{contentHash[..2]}/{contentHash[2..4]}/{contentHash}";
    }

    public static bool IsContentHash(string? value) =>
        value is { Length: 64 } && value.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    public string PathFor(string contentHash) => Path.Combine(Root, KeyFor(contentHash));

    /// <summary>
    /// The disk or the quota is full: ENOSPC/EDQUOT on Unix (.NET puts the errno in HResult), ERROR_DISK_FULL or
    /// ERROR_HANDLE_DISK_FULL on Windows.
    /// </summary>
    public static bool IsOutOfSpace(IOException e) =>
        e.HResult is 28 or 122 or unchecked((int)0x80070070) or unchecked((int)0x80070027);

    /// <summary>
    /// Streams <paramref name="content"/> to a temp file while hashing it, then renames it into place.
    /// A failure leaves nothing behind; content already stored is kept and the temp file dropped.
    /// </summary>
    public async Task<StoredContent> PutAsync(Stream content, CancellationToken ct = default)
    {
        var tempFolder = Path.Combine(Root, ".incoming");
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
}
