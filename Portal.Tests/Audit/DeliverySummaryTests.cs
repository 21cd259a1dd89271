using Portal.App.Audit;
using Portal.Data.Audit;
using Portal.Data.Downloads;

namespace Portal.Tests.Audit;

/// <summary>What a compliance officer reads in the Delivery column for each kind of receipt.</summary>
public class DeliverySummaryTests
{
    private static DeliveryReceipt Receipt(int status, long bytes, bool completed, int ms = 1500, string? range = null) =>
        new() { Status = status, BytesSent = bytes, Completed = completed, DurationMs = ms, Range = range };

    [Fact]
    public void Completed() => Assert.Equal("completed: 1 MiB in 1.5 s",
        DeliverySummary.Describe(AuditAction.DocumentDownloaded, AuditOutcome.Allowed, 1024 * 1024, Receipt(200, 1024 * 1024, true)));

    [Fact]
    public void Aborted() => Assert.Equal("aborted at 300 KiB of 1 MiB after 1.5 s",
        DeliverySummary.Describe(AuditAction.DocumentDownloaded, AuditOutcome.Allowed, 1024 * 1024, Receipt(200, 300 * 1024, false)));

    [Fact]
    public void A_range() => Assert.Equal("range bytes=0-99: 100 B in 0.0 s",
        DeliverySummary.Describe(AuditAction.DocumentViewed, AuditOutcome.Allowed, 5000, Receipt(206, 100, true, 20, "bytes=0-99")));

    [Fact]
    public void Not_modified() => Assert.Equal("not modified (304)",
        DeliverySummary.Describe(AuditAction.DocumentDownloaded, AuditOutcome.Allowed, 5000, Receipt(304, 0, true)));

    [Fact]
    public void No_receipt_yet() => Assert.Equal("no receipt",
        DeliverySummary.Describe(AuditAction.DocumentDownloaded, AuditOutcome.Allowed, 5000, null));

    [Fact]
    public void A_denied_download_was_not_served() => Assert.Equal("not served",
        DeliverySummary.Describe(AuditAction.DocumentDownloaded, AuditOutcome.Denied, 5000, null));
}
