using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.App.Audit;
using Portal.Data;
using Portal.Data.Audit;
using Portal.Data.Database;

// Usage: AuditBench page <app url> <iterations>                  (the audit page in Chromium: see AuditPageBench)
//        AuditBench <postgres connection string> [iterations]
//        AuditBench <postgres connection string> append <seconds>   (the audit writer alone: group commit vs one transaction per event)
// For each filter of the compliance view: the first page (100 rows, newest first) and a page deep in the result
// (keyset, from the middle of the id range), timed over N runs after a warm-up. Prints a Markdown table.
if (args[0] == "page") return await AuditPageBench.RunAsync(args[1], int.Parse(args[2]));
var connectionString = args[0];
await using var services = new ServiceCollection().AddLogging().AddSingleton(TimeProvider.System).AddPortalDatabase(DatabaseProvider.PostgreSQL, connectionString).BuildServiceProvider();
var contexts = services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
if (args.Length > 1 && args[1] == "append")
{
    await using (var migrate = await contexts.CreateDbContextAsync()) await migrate.Database.MigrateAsync(); // no-op on a migrated database
    return await AppendBenchmark(contexts, int.Parse(args[2]));
}
var iterations = args.Length > 1 ? int.Parse(args[1]) : 100;
var queries = new AuditQueries(contexts);

await using var db = await contexts.CreateDbContextAsync();
var maxId = await db.AuditEvents.MaxAsync(e => e.Id);
var sample = await db.AuditEvents.AsNoTracking().Where(e => e.Id == maxId / 2).SingleAsync();
var someUser = sample.ActorUserId;
// A document that was downloaded (in the generated log each document gets one kind of event only, so "any document"
// could be one that was only uploaded, and the "who accessed" report would time an empty page). In id order: every run
// picks the same one.
var someDocument = await db.AuditEvents.Where(e => e.Id > maxId / 3 && e.Action == AuditAction.DocumentDownloaded)
    .OrderBy(e => e.Id).Select(e => e.DocumentId).FirstAsync();
var root = await db.Folders.Where(f => f.ParentId == null && f.Name.StartsWith("Top ")).OrderBy(f => f.Name).Select(f => f.Id).FirstAsync();
var ip = sample.ClientIp;
var mid = sample.OccurredAt;

var filters = new (string Name, AuditFilter Filter)[]
{
    ("none", new AuditFilter()),
    ("user", new AuditFilter { UserId = someUser }),
    ("document", new AuditFilter { DocumentId = someDocument }),
    ("folder with subfolders", new AuditFilter { FolderId = root }),
    ("action DocumentViewed", new AuditFilter { Actions = [AuditAction.DocumentViewed] }),
    ("denied", new AuditFilter { Outcome = AuditOutcome.Denied }),
    ("IP address", new AuditFilter { ClientIp = ip }),
    ("one day", new AuditFilter { From = mid.AddDays(-1), To = mid }),
    ("user + denied (report)", new AuditFilter { UserId = someUser, Outcome = AuditOutcome.Denied }),
    ("who accessed document (report)", new AuditFilter { DocumentId = someDocument, Actions = [AuditAction.DocumentDownloaded, AuditAction.DocumentViewed] }),
    ("user + action + last 30 days", new AuditFilter { UserId = someUser, Actions = [AuditAction.DocumentDownloaded], From = mid.AddDays(-30), To = mid }),
};

Console.WriteLine($"| filter | rows on page | first page p50 | first page p95 | deep page p95 (before #{maxId / 2:N0}) |");
Console.WriteLine("|---|---|---|---|---|");
var allP95 = new List<double>();
foreach (var (name, filter) in filters)
{
    for (var i = 0; i < 5; i++) await queries.PageAsync(filter, 100);
    var first = new List<double>();
    var deep = new List<double>();
    var rows = 0;
    for (var i = 0; i < iterations; i++)
    {
        var watch = Stopwatch.StartNew();
        var page = await queries.PageAsync(filter, 100);
        first.Add(watch.Elapsed.TotalMilliseconds);
        rows = page.Rows.Count;
        watch.Restart();
        await queries.PageAsync(filter, 100, beforeId: maxId / 2);
        deep.Add(watch.Elapsed.TotalMilliseconds);
    }
    allP95.Add(P(first, 95));
    Console.WriteLine($"| {name} | {rows} | {P(first, 50):0.0} ms | {P(first, 95):0.0} ms | {P(deep, 95):0.0} ms |");
}
Console.WriteLine();
Console.WriteLine($"WORST_FIRST_PAGE_P95_MS={allP95.Max():0.0}");
return 0;

// 64 concurrent appenders (what 64 concurrent downloads do) for the given time, with each writer setting.
static async Task<int> AppendBenchmark(IDbContextFactory<PortalDbContext> contexts, int seconds)
{
    Console.WriteLine("| audit writer | events committed/s | mean wait per event |");
    Console.WriteLine("|---|---|---|");
    var rates = new List<double>();
    foreach (var (name, batch) in new[] { ("group commit (batches of up to 500)", 500), ("one transaction per event", 1) })
    {
        await using var log = new AuditLog(contexts, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<AuditLog>.Instance, new AuditLogOptions { MaxBatch = batch });
        await Run(log, 2); // warm-up
        var (count, elapsed, waited) = await Run(log, seconds);
        rates.Add(count / elapsed.TotalSeconds);
        Console.WriteLine($"| {name} | **{count / elapsed.TotalSeconds:N0}** | {waited.TotalMilliseconds / count:0.0} ms |");
    }
    Console.WriteLine();
    Console.WriteLine($"APPEND_RATIO={rates[0] / rates[1]:0.0}");
    return 0;

    static async Task<(long Count, TimeSpan Elapsed, TimeSpan Waited)> Run(AuditLog log, int seconds)
    {
        var until = Stopwatch.StartNew();
        long count = 0, waitedTicks = 0;
        await Task.WhenAll(Enumerable.Range(0, 64).Select(async worker =>
        {
            while (until.Elapsed.TotalSeconds < seconds)
            {
                var started = Stopwatch.GetTimestamp();
                await log.AppendAsync(new AuditEvent { Action = AuditAction.DocumentDownloaded, Outcome = AuditOutcome.Allowed, TargetName = $"bench {worker}.pdf", Size = worker });
                Interlocked.Add(ref waitedTicks, Stopwatch.GetElapsedTime(started).Ticks);
                Interlocked.Increment(ref count);
            }
        }));
        return (count, until.Elapsed, TimeSpan.FromTicks(waitedTicks));
    }
}

static double P(List<double> values, int percentile)
{
    var sorted = values.Order().ToList();
    return sorted[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
}
