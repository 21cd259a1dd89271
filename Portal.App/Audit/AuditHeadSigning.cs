using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.App.Hosting;
using Portal.Data;
using Portal.Data.Audit;

namespace Portal.App.Audit;

/// <summary>
/// Signs the head of the audit chain behind the commits, never in a request's path: every
/// <see cref="AuditSigningOptions.SignEveryEvents"/> committed events or every <see cref="AuditSigningOptions.SignEverySeconds"/>
/// while some are unsigned (by default at most about a second of events is ever unanchored), and once more when the
/// app stops. Each head goes to the database (AuditSignedHeads) and to every anchor outside it; an anchor that fails is
/// logged and retried with the next head, the database row is written regardless.
/// </summary>
public sealed class AuditHeadSigning(
    AuditSigningKeys keys, IDbContextFactory<PortalDbContext> contexts, AuditLog audit, IEnumerable<IAuditHeadAnchor> anchors,
    IOptions<AuditSigningOptions> options, TimeProvider clock, ILogger<AuditHeadSigning> log) : BackgroundService
{
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly IAuditHeadAnchor[] _anchors = anchors.ToArray();
    private int _unsigned;
    private long _lastSignedId = -1;

    /// <summary>The newest head this instance signed.</summary>
    public AuditSignedHead? LastSigned { get; private set; }

    public override Task StartAsync(CancellationToken ct)
    {
        if (keys.Signer is null) throw new StartupException(keys.Missing!);
        audit.BatchCommitted += OnCommitted;
        log.LogInformation("Signing audit chain heads with key {KeyId}; anchors: {Anchors}", keys.Signer.KeyId,
            _anchors.Length == 0 ? "none" : string.Join(", ", _anchors.Select(a => a.Name)));
        return base.StartAsync(ct);
    }

    private void OnCommitted(int count, TimeSpan _)
    {
        if (Interlocked.Add(ref _unsigned, count) >= options.Value.SignEveryEvents && _wake.CurrentCount == 0)
            try { _wake.Release(); } catch (SemaphoreFullException) { }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var every = TimeSpan.FromSeconds(Math.Max(0.05, options.Value.SignEverySeconds));
        while (!stoppingToken.IsCancellationRequested)
        {
            try { await _wake.WaitAsync(every, stoppingToken); }
            catch (OperationCanceledException) { break; }
            try { await SignNowAsync(stoppingToken); }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
            catch (Exception e) { log.LogError(e, "The audit chain head could not be signed; trying again"); }
        }
    }

    public override async Task StopAsync(CancellationToken ct)
    {
        audit.BatchCommitted -= OnCommitted;
        await base.StopAsync(ct);
        // The last events before the stop are anchored too.
        try { await SignNowAsync(ct); }
        catch (Exception e) { log.LogError(e, "The audit chain head could not be signed at shutdown"); }
    }

    /// <summary>Signs the chain's current end if it moved since the last head; returns the head (null when nothing new).</summary>
    public async Task<AuditSignedHead?> SignNowAsync(CancellationToken ct = default)
    {
        var signer = keys.Signer ?? throw new InvalidOperationException(keys.Missing);
        await _turn.WaitAsync(ct);
        try
        {
            Interlocked.Exchange(ref _unsigned, 0);
            await using var db = await contexts.CreateDbContextAsync(ct);
            var end = await db.AuditEvents.OrderByDescending(e => e.Id).Select(e => new { e.Id, e.Hash }).FirstOrDefaultAsync(ct);
            if (end is null || end.Id == _lastSignedId) return null;
            var head = signer.Sign(end.Id, end.Hash, clock.GetUtcNow());
            db.AuditSignedHeads.Add(head);
            await db.SaveChangesAsync(ct);
            foreach (var anchor in _anchors)
            {
                try { await anchor.WriteAsync(head, ct); }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogError(e, "Signed audit head for event {EventId} could not be written to the anchor {Anchor}", head.EventId, anchor.Name);
                }
            }
            _lastSignedId = end.Id;
            LastSigned = head;
            return head;
        }
        finally { _turn.Release(); }
    }
}
