using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Data.Audit;
using Portal.Data.Downloads;

namespace Portal.App.Audit;

/// <summary>An audit event as the compliance view lists it, with the delivery receipt of a download.</summary>
public sealed record AuditRow(
    long Id, DateTimeOffset OccurredAt, AuditAction Action, AuditOutcome Outcome, string? Reason, string? Actor,
    string? ClientIp, string? TargetPath, string? TargetName, long? Size, string? Range, DeliveryReceipt? Receipt)
{
    public string Delivery => DeliverySummary.Describe(Action, Outcome, Size, Receipt);
}

/// <summary>Reads the audit log for compliance officers. Read-only: the app has no path that changes events.</summary>
public sealed class AuditQueries(IDbContextFactory<PortalDbContext> contexts)
{
    /// <summary>The newest events first, one page (keyset: pass the smallest id of the previous page).</summary>
    public async Task<IReadOnlyList<AuditRow>> NewestAsync(int pageSize, long? beforeId = null, CancellationToken ct = default)
    {
        await using var db = await contexts.CreateDbContextAsync(ct);
        var events = db.AuditEvents.AsNoTracking();
        if (beforeId is { } before) events = events.Where(e => e.Id < before);
        return await events
            .OrderByDescending(e => e.Id)
            .Take(pageSize)
            .Select(e => new AuditRow(e.Id, e.OccurredAt, e.Action, e.Outcome, e.Reason, e.ActorDisplayName, e.ClientIp,
                e.TargetPath, e.TargetName, e.Size, e.Range,
                db.DeliveryReceipts.Where(r => r.AuditEventId == e.Id).OrderBy(r => r.Id).FirstOrDefault()))
            .ToListAsync(ct);
    }
}

/// <summary>Says in words whether the person got the file, from nginx's receipt.</summary>
public static class DeliverySummary
{
    public static string Describe(AuditAction action, AuditOutcome outcome, long? size, DeliveryReceipt? receipt)
    {
        if (action is not (AuditAction.DocumentDownloaded or AuditAction.DocumentViewed)) return "";
        if (outcome != AuditOutcome.Allowed) return "not served";
        if (receipt is null) return "no receipt";
        var took = $"{receipt.DurationMs / 1000.0:0.0} s";
        return receipt switch
        {
            { Status: 304 } => "not modified (304)",
            { Status: 206, Completed: true } => $"range {receipt.Range}: {Bytes(receipt.BytesSent)} in {took}",
            { Status: 200, Completed: true } => $"completed: {Bytes(receipt.BytesSent)} in {took}",
            { Completed: false } => $"aborted at {Bytes(receipt.BytesSent)}" + (size is > 0 ? $" of {Bytes(size.Value)}" : "") + $" after {took}",
            _ => $"status {receipt.Status}: {Bytes(receipt.BytesSent)}",
        };
    }

    internal static string Bytes(long n) => n switch
    {
        < 1024 => $"{n} B",
        < 1024 * 1024 => $"{n / 1024.0:0.#} KiB",
        < 1024L * 1024 * 1024 => $"{n / (1024.0 * 1024):0.#} MiB",
        _ => $"{n / (1024.0 * 1024 * 1024):0.##} GiB",
    };
}
