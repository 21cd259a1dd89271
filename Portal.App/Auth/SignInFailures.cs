using System.Collections.Concurrent;
using System.Security.Claims;
using Portal.App.Audit;
using Portal.Data.Audit;

namespace Portal.App.Auth;

/// <summary>
/// Records refused sign-ins (and refused back-channel logouts) that come from nobody signed in. Anyone can send
/// those, so they are rate-limited: per client address at most <see cref="PerAddress"/> a minute, and at most
/// <see cref="Overall"/> a minute from everyone, each address's excess announced once in the trail; the rest only
/// counted in the operators' log. A refusal with a known person (disabled account, no role) is always recorded.
/// </summary>
public sealed class SignInFailures(AuditLog audit, TimeProvider clock, ILogger<SignInFailures> log)
{
    public const int PerAddress = 10;
    public const int Overall = 100;
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private sealed class Count { public long Window; public int Recorded; public int Dropped; }
    private readonly ConcurrentDictionary<string, Count> _byAddress = new();
    private readonly Count _overall = new();

    /// <summary>Records the anonymous refusal unless the limits are reached. Returns whether it went into the trail.</summary>
    public async Task<bool> RecordAsync(HttpContext http, AuditAction action, string reason)
    {
        var address = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var (record, announce) = Admit(address);
        if (!record && !announce)
        {
            log.LogWarning("Anonymous {Action} from {Address} not recorded (rate limit): {Reason}", action, address, reason);
            return false;
        }
        var text = announce
            ? $"{reason} (more than {PerAddress} refusals a minute from this address, or {Overall} from all: further ones this minute are in the log only)"
            : reason;
        await audit.AppendAsync(AuditEventFactory.For(new ClaimsPrincipal(), action, AuditOutcome.Denied, text, http), http.RequestAborted);
        return true;
    }

    /// <summary>(record it, record it with the notice that more will not be).</summary>
    private (bool Record, bool Announce) Admit(string address)
    {
        var window = clock.GetUtcNow().Ticks / Window.Ticks;
        if (_byAddress.Count > 10_000) Prune(window);
        var mine = _byAddress.GetOrAdd(address, _ => new Count());
        lock (_overall)
        {
            if (_overall.Window != window) (_overall.Window, _overall.Recorded, _overall.Dropped) = (window, 0, 0);
            if (mine.Window != window) (mine.Window, mine.Recorded, mine.Dropped) = (window, 0, 0);
            if (mine.Recorded < PerAddress && _overall.Recorded < Overall)
            {
                mine.Recorded++;
                _overall.Recorded++;
                return (true, false);
            }
            // The first refusal over a limit is recorded with the notice, so the trail says that some were left out.
            var first = mine.Dropped++ == 0;
            return (false, first && _overall.Recorded++ < Overall + 10);
        }
    }

    private void Prune(long window)
    {
        foreach (var (address, count) in _byAddress)
            if (count.Window != window) _byAddress.TryRemove(address, out _);
    }
}
