using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Data.Audit;
using Portal.Data.Forwarding;

namespace Portal.App.Forwarding;

/// <summary>
/// Sends every committed audit event to one sink, in id order, at least once: it reads the events after the sink's
/// cursor (in the database), sends them, and moves the cursor only once the sink has them. Runs behind the commit, never
/// in a request. With several instances only the holder of the sink's lease forwards it; if that instance dies, another
/// takes over when the lease runs out. A failing sink is retried with backoff (1 s, doubling, up to MaxBackoff) and
/// catches up from its cursor.
/// </summary>
public sealed class SinkForwarder(SinkSettings sink, ForwardingSettings settings, IDbContextFactory<PortalDbContext> contexts,
    CommittedEvents committed, TimeProvider clock, ILoggerFactory logs) : BackgroundService
{
    /// <summary>How often other instances' commits are looked for when nothing wakes us.</summary>
    internal static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    private readonly ILogger _log = logs.CreateLogger($"{typeof(SinkForwarder).FullName}.{sink.Name}");

    public SinkSettings Sink => sink;

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        var wake = committed.Subscribe();
        await using var target = SinkTrust.Create(sink, logs);
        var backoff = TimeSpan.Zero;
        long? sentUpTo = null; // null: start from the database cursor
        long persisted = 0;
        await Task.Yield();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var db = await contexts.CreateDbContextAsync(stop);
                if (!await EventCursors.TryLeaseAsync(db, sink.CursorName, committed.InstanceId, clock.GetUtcNow(), settings.Lease, ct: stop))
                {
                    sentUpTo = null; // another instance forwards this sink; read its cursor when we take over
                    await target.ResetAsync();
                    await WaitAsync(wake, settings.Lease / 3, stop);
                    continue;
                }
                if (sentUpTo is null)
                {
                    persisted = (await EventCursors.FindAsync(db, sink.CursorName, stop))!.LastEventId;
                    sentUpTo = persisted;
                }
                var events = await EventCursors.EventsAfterAsync(db, sentUpTo.Value, settings.BatchSize, stop);
                if (events.Count > 0)
                {
                    var wanted = settings.Actions is null ? events : events.FindAll(e => settings.Sends(e.Action));
                    await target.SendAsync(wanted, stop);
                    sentUpTo = events[^1].Id;
                }
                var confirmed = target.Confirmed(sentUpTo.Value);
                if (confirmed > persisted)
                {
                    if (!await EventCursors.AdvanceAsync(db, sink.CursorName, committed.InstanceId, confirmed, clock.GetUtcNow(), stop))
                    {
                        sentUpTo = null; // the lease moved on meanwhile: the new holder sends from the cursor
                        continue;
                    }
                    persisted = confirmed;
                }
                if (backoff > TimeSpan.Zero) _log.LogInformation("Forwarding to {Sink} works again", sink.Name);
                backoff = TimeSpan.Zero;
                if (events.Count < settings.BatchSize)
                    await WaitAsync(wake, target.ConfirmDueIn is { } due && due < Poll ? due.Duration() + TimeSpan.FromMilliseconds(20) : Poll, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                backoff = backoff == TimeSpan.Zero ? TimeSpan.FromSeconds(1) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, settings.MaxBackoff.Ticks));
                // The message only (a sink's URL or address, a status): never the secret, never the events.
                var error = $"{e.GetType().Name}: {e.Message}";
                _log.LogWarning("Forwarding to {Sink} failed ({Error}); retrying in {Backoff}", sink.Name, error, backoff);
                await target.ResetAsync();
                sentUpTo = null; // resend everything not confirmed
                try
                {
                    await using var db = await contexts.CreateDbContextAsync(stop);
                    await EventCursors.RecordErrorAsync(db, sink.CursorName, error, clock.GetUtcNow(), stop);
                }
                catch (Exception) when (!stop.IsCancellationRequested) { /* the database may be what failed */ }
                try { await Task.Delay(backoff, clock, stop); } catch (OperationCanceledException) { break; }
            }
        }
        try
        {
            await using var db = await contexts.CreateDbContextAsync(CancellationToken.None);
            await EventCursors.ReleaseAsync(db, sink.CursorName, committed.InstanceId);
        }
        catch (Exception) { /* the lease runs out by itself */ }
    }

    private static async Task WaitAsync(SemaphoreSlim wake, TimeSpan timeout, CancellationToken stop)
    {
        // Woken by a commit here, or polling for other instances'; then a moment so a burst is read as one batch.
        if (await wake.WaitAsync(timeout, stop)) await Task.Delay(50, stop);
    }
}
