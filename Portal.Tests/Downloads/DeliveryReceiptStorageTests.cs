using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.App.Downloads;
using Portal.App.Hosting;
using Portal.Data.Audit;
using Portal.Data.Database;
using Portal.Data.Downloads;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Downloads;

/// <summary>
/// The receipt listener stores receipts without EF's update pipeline (one INSERT from the model's type mappings):
/// what it stores must be what EF reads back, field for field, on every database; a receipt naming an event that
/// allowed no download is not stored.
/// </summary>
public abstract class DeliveryReceiptStorageTests(DatabaseProvider provider) : IAsyncLifetime
{
    private TestDatabase database = null!;
    private PortalHost host = null!;

    public Task InitializeAsync()
    {
        database = TestDatabase.Create(provider);
        host = new PortalHost(database, DeliveryMode.Direct);
        _ = host.Services; // starts the app, and with it the listener's storing loop
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        await database.DisposeAsync();
    }

    private Task<long> AppendAsync(AuditAction action, AuditOutcome outcome) =>
        host.Services.GetRequiredService<AuditLog>().AppendAsync(new AuditEvent { Action = action, Outcome = outcome, DocumentId = Guid.NewGuid() });

    [Fact]
    public async Task Every_field_is_stored_and_read_back_exactly_as_received()
    {
        var completed = await AppendAsync(AuditAction.DocumentDownloaded, AuditOutcome.Allowed);
        var ranged = await AppendAsync(AuditAction.DocumentViewed, AuditOutcome.Allowed);
        var denied = await AppendAsync(AuditAction.DocumentDownloaded, AuditOutcome.Denied);
        // Microseconds: what PostgreSQL's timestamptz keeps (EF's own SaveChanges loses the rest the same way).
        var at = new DateTimeOffset(2026, 11, 21, 15, 4, 5, TimeSpan.Zero).AddTicks(1_234_560);
        var sent = new[]
        {
            new DeliveryReceipt { AuditEventId = completed, Status = 200, BytesSent = 5_000_000_000, Completed = true, DurationMs = int.MaxValue, Range = null, ReceivedAt = at },
            new DeliveryReceipt { AuditEventId = ranged, Status = 206, BytesSent = 0, Completed = false, DurationMs = 0, Range = "bytes=0-99,-10 \"'", ReceivedAt = at.AddDays(1) },
        };
        var listener = host.Services.GetRequiredService<DeliveryReceiptListener>();
        // First, so that it has been dealt with once the others are stored (receipts are stored in order).
        listener.Submit(new DeliveryReceipt { AuditEventId = denied, Status = 200, BytesSent = 1, Completed = true, ReceivedAt = at });
        foreach (var receipt in sent) listener.Submit(receipt);

        foreach (var expected in sent)
        {
            var stored = await host.ReceiptAsync(expected.AuditEventId);
            Assert.True(stored.Id > 0);
            foreach (var p in typeof(DeliveryReceipt).GetProperties().Where(p => p.Name != nameof(DeliveryReceipt.Id)))
                Assert.True(Equals(p.GetValue(expected), p.GetValue(stored)), $"{p.Name}: {p.GetValue(expected)} became {p.GetValue(stored)}");
        }
        var all = await host.WithDbAsync(db => db.DeliveryReceipts.AsNoTracking().ToListAsync());
        Assert.Equal(sent.Select(r => r.AuditEventId).Order(), all.Select(r => r.AuditEventId).Order()); // none for the denied one
    }
}

public sealed class SqliteDeliveryReceiptStorageTests() : DeliveryReceiptStorageTests(DatabaseProvider.Sqlite);

public sealed class PostgresDeliveryReceiptStorageTests() : DeliveryReceiptStorageTests(DatabaseProvider.PostgreSQL);
