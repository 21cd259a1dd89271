using System.Text.Json;
using Portal.Data.Audit;

namespace Portal.Tests.Forwarding;

internal static class ForwardingAssertions
{
    /// <summary>
    /// Waits (up to <paramref name="timeout"/>) until every event of the log has arrived, then checks what a SIEM would:
    /// no id missing, ids first seen in increasing order (a repeat is allowed), each with its chain hash.
    /// </summary>
    public static async Task AllArrivedInOrderAsync(Func<Task<List<AuditEvent>>> log, Func<IReadOnlyList<JsonElement>> received, TimeSpan timeout,
        Func<AuditEvent, bool>? sent = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        List<AuditEvent> events;
        IReadOnlyList<JsonElement> got;
        do
        {
            events = (await log()).Where(sent ?? (_ => true)).ToList();
            got = received();
            var ids = got.Select(e => e.GetProperty("id").GetInt64()).ToHashSet();
            if (events.All(e => ids.Contains(e.Id))) break;
            await Task.Delay(250);
        } while (clock.Elapsed < timeout);

        var byId = events.ToDictionary(e => e.Id);
        var receivedIds = got.Select(e => e.GetProperty("id").GetInt64()).ToList();
        var missing = events.Select(e => e.Id).Except(receivedIds).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {events.Count} events never arrived (first missing: {string.Join(", ", missing.Take(10))}); received {receivedIds.Count}");
        var firstSeen = receivedIds.Distinct().ToList();
        for (var i = 1; i < firstSeen.Count; i++)
            Assert.True(firstSeen[i] > firstSeen[i - 1], $"event {firstSeen[i]} first arrived after {firstSeen[i - 1]}");
        foreach (var e in got)
        {
            var id = e.GetProperty("id").GetInt64();
            if (!byId.TryGetValue(id, out var stored)) { Assert.NotNull(sent); continue; }
            Assert.Equal(stored.Hash, e.GetProperty("hash").GetString());
            Assert.Equal(stored.PreviousHash, e.GetProperty("previousHash").GetString());
            Assert.Equal(stored.Action.ToString(), e.GetProperty("action").GetString());
        }
    }
}
