using Portal.Data.Audit;

namespace Portal.App.Forwarding;

/// <summary>
/// Tells the readers of committed events (forwarders, the alert evaluator) that this instance just committed some, so
/// they read soon instead of at their next poll; other instances' commits are found by polling. Raised from the audit
/// writer after its commit: it only sets flags, so it costs the writer (and the download it records) nothing.
/// </summary>
public sealed class CommittedEvents
{
    private readonly List<SemaphoreSlim> _waiters = [];

    public CommittedEvents(AuditLog audit) => audit.BatchCommitted += (_, _) => Notify();

    /// <summary>A signal that is set when events are committed here; wait on it between reads.</summary>
    public SemaphoreSlim Subscribe()
    {
        var signal = new SemaphoreSlim(0, 1);
        lock (_waiters) _waiters.Add(signal);
        return signal;
    }

    public void Notify()
    {
        lock (_waiters)
            foreach (var w in _waiters)
                if (w.CurrentCount == 0) try { w.Release(); } catch (SemaphoreFullException) { }
    }

    /// <summary>This instance, as a lease holder ("host/pid/random": two instances in one process differ too).</summary>
    public string InstanceId { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";
}
