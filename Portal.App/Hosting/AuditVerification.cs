using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Data.Audit;

namespace Portal.App.Hosting;

/// <summary>
/// `Portal.App verify-audit`: reads the whole audit log as a stream, in id order, and checks every link and hash.
/// Exit code 0 when the chain holds, 2 naming the first event that does not.
/// </summary>
public static class AuditVerification
{
    public const string Command = "verify-audit";

    public static async Task<int> RunAsync(IServiceProvider services, TextWriter output, CancellationToken ct = default)
    {
        await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(ct);
        var verifier = new AuditChain.Verifier();
        await foreach (var e in db.AuditEvents.AsNoTracking().OrderBy(e => e.Id).AsAsyncEnumerable().WithCancellation(ct))
        {
            if (verifier.Accept(e)) continue;
            await output.WriteLineAsync($"BROKEN at event #{e.Id} ({e.OccurredAt:u}, {e.Action}): its id, its link to the event before " +
                                        $"or its own hash does not hold. {verifier.Verified} events before it verify.");
            return 2;
        }
        await output.WriteLineAsync($"Verified {verifier.Verified} audit events: the chain holds.");
        return 0;
    }
}
