namespace Portal.App.Documents.Storage;

/// <summary>
/// Where document bytes live: a local folder or an S3-compatible bucket. Objects are keyed by their SHA-256
/// (never by a name), so identical content is stored once in either.
/// </summary>
public interface IDocumentStore
{
    /// <summary>For operators' messages: the folder, or the bucket and endpoint (never a key or secret).</summary>
    string Description { get; }

    /// <summary>Streams the content in while hashing it; only complete content ever appears under its hash.</summary>
    Task<StoredContent> PutAsync(Stream content, CancellationToken ct = default);

    /// <summary>The stored bytes of <paramref name="contentHash"/>, or null when nothing is stored under it.</summary>
    Task<Stream?> OpenReadAsync(string contentHash, CancellationToken ct = default);

    /// <summary>
    /// Removes the bytes of <paramref name="contentHash"/> (nothing to do when none are stored). Call only once no
    /// document or version refers to them, after that is committed: bytes nobody refers to are harmless, a row
    /// without its bytes is not.
    /// </summary>
    Task DeleteAsync(string contentHash, CancellationToken ct = default);

    /// <summary>Writes and removes a small probe; throws <see cref="StorageUnavailableException"/> saying what is wrong.</summary>
    Task CheckWritableAsync(CancellationToken ct = default);
}

/// <summary>The store cannot be used; the message says why in words for an operator (no secrets).</summary>
public sealed class StorageUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
