using Microsoft.Extensions.Logging.Abstractions;
using Portal.App.Documents;
using Portal.App.Documents.Storage;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Documents;

/// <summary>An upload cut short by a crash leaves a temp file in .incoming; the next start removes it once it is old.</summary>
public sealed class AbandonedUploadTests
{
    [Fact]
    public async Task Start_up_removes_unfinished_uploads_older_than_a_day_and_keeps_recent_ones_and_stored_documents()
    {
        var root = TestEnvironment.NewTempFolder("abandoned-uploads");
        var storage = new DocumentStorage(root);
        var stored = await storage.Store.PutAsync(new MemoryStream("kept content"u8.ToArray()));
        var now = new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
        var local = (LocalDocumentStore)storage.Store;
        var crashed = Path.Combine(local.IncomingFolder, "crashed-upload");
        var receiving = Path.Combine(local.IncomingFolder, "upload-in-progress");
        await File.WriteAllBytesAsync(crashed, new byte[4096]);
        await File.WriteAllBytesAsync(receiving, new byte[4096]);
        File.SetLastWriteTimeUtc(crashed, now.UtcDateTime.AddDays(-2));
        File.SetLastWriteTimeUtc(receiving, now.UtcDateTime.AddMinutes(-5));

        await new AbandonedUploadCleanup(storage, new FakeClock(now), NullLogger<AbandonedUploadCleanup>.Instance).StartAsync(default);

        Assert.False(File.Exists(crashed));
        Assert.True(File.Exists(receiving));
        Assert.Equal("kept content", File.ReadAllText(local.PathFor(stored.ContentHash)));
    }
}
