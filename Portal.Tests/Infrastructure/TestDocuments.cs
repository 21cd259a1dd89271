using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.App.Documents;
using Portal.Data;
using Portal.Data.Documents;

namespace Portal.Tests.Infrastructure;

/// <summary>Adds documents of any size without holding them in memory: deterministic pseudo-random bytes.</summary>
public static class TestDocuments
{
    public sealed record Added(Guid Id, string Name, long Size, string Sha256);

    public static async Task<Added> AddAsync(IServiceProvider services, Guid folderId, string name, long size,
        string contentType = "application/octet-stream", int seed = 1, bool deleted = false)
    {
        var stored = await services.GetRequiredService<DocumentStorage>().PutAsync(new PseudoRandomStream(size, seed));
        await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        var doc = new Document
        {
            Id = Guid.NewGuid(), FolderId = folderId, DisplayName = name, ContentHash = stored.ContentHash,
            Size = stored.Size, ContentType = contentType, IsDeleted = deleted,
        };
        db.Documents.Add(doc);
        await db.SaveChangesAsync();
        return new Added(doc.Id, name, stored.Size, stored.ContentHash);
    }

    /// <summary>The bytes <see cref="AddAsync"/> stores for a size and seed, for comparing ranges.</summary>
    public static byte[] ExpectedBytes(long size, int seed)
    {
        var buffer = new byte[size];
        new PseudoRandomStream(size, seed).ReadExactly(buffer);
        return buffer;
    }

    public static async Task<string> Sha256Async(Stream stream)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0) sha.AppendData(buffer, 0, read);
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private sealed class PseudoRandomStream(long length, int seed) : Stream
    {
        private readonly Random _random = new(seed);
        private long _position;
        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            if (n <= 0) return 0;
            _random.NextBytes(buffer.AsSpan(offset, n));
            _position += n;
            return n;
        }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
