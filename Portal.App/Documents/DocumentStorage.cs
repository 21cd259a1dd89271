using Portal.App.Documents.Storage;

namespace Portal.App.Documents;

/// <summary>What was stored: the content hash (also the storage key) and the size.</summary>
public sealed record StoredContent(string ContentHash, long Size);

/// <summary>
/// The document store the app uses: a local folder (default) or an S3-compatible bucket behind
/// <see cref="Store"/>. Keys are content hashes (ab/cd/&lt;sha256&gt;), never names; identical content is stored once.
/// </summary>
public sealed class DocumentStorage
{
    /// <summary>A local folder store.</summary>
    public DocumentStorage(string root) : this(new LocalDocumentStore(root)) { }

    public DocumentStorage(IDocumentStore store) => Store = store;

    public IDocumentStore Store { get; }

    /// <summary>The local store's folder; a bucket has none.</summary>
    public string Root => Local.Root;

    /// <summary>The relative key "ab/cd/&lt;hash&gt;" for a SHA-256 in lowercase hex.</summary>
    public static string KeyFor(string contentHash)
    {
        if (!IsContentHash(contentHash)) throw new ArgumentException("Not a SHA-256 content hash.", nameof(contentHash));
        return $"{contentHash[..2]}/{contentHash[2..4]}/{contentHash}";
    }

    public static bool IsContentHash(string? value) =>
        value is { Length: 64 } && value.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    /// <summary>The local file of a content hash (local store only).</summary>
    public string PathFor(string contentHash) => Local.PathFor(contentHash);

    /// <summary>
    /// The disk or the quota is full: ENOSPC/EDQUOT on Unix (.NET puts the errno in HResult), ERROR_DISK_FULL or
    /// ERROR_HANDLE_DISK_FULL on Windows.
    /// </summary>
    public static bool IsOutOfSpace(IOException e) =>
        e.HResult is 28 or 122 or unchecked((int)0x80070070) or unchecked((int)0x80070027);

    /// <summary>Streams the content to the store while hashing it; a failure leaves nothing behind.</summary>
    public Task<StoredContent> PutAsync(Stream content, CancellationToken ct = default) => Store.PutAsync(content, ct);

    /// <summary>Removes stored bytes (see <see cref="IDocumentStore.DeleteAsync"/>).</summary>
    public Task DeleteAsync(string contentHash, CancellationToken ct = default) => Store.DeleteAsync(contentHash, ct);

    private LocalDocumentStore Local => Store as LocalDocumentStore
        ?? throw new InvalidOperationException($"Documents are stored in {Store.Description}, which has no local files.");
}
