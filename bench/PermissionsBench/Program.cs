// Effective-permission check on a 10-level tree with 10,000 permission entries: median and p95 of
// PermissionService.GetRightsAsync (what every page, upload and permission change asks), and how many SQL
// commands one check sends. Usage: PermissionsBench sqlite|postgres [connection string] [checks] [label]
using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Data;
using Portal.Data.Database;
using Portal.Data.Folders;
using Portal.Data.Permissions;
using Portal.Data.Users;

var providerName = args.ElementAtOrDefault(0) ?? "sqlite";
var provider = providerName == "postgres" ? DatabaseProvider.PostgreSQL : DatabaseProvider.Sqlite;
var tempFolder = Path.Combine(Path.GetTempPath(), $"portal-permbench-{Guid.NewGuid():N}");
var connection = args.ElementAtOrDefault(1) is { Length: > 0 } given ? given
    : provider == DatabaseProvider.Sqlite ? $"Data Source={Path.Combine(Directory.CreateDirectory(tempFolder).FullName, "bench.db")}"
    : throw new ArgumentException("postgres needs a connection string");
var checks = int.TryParse(args.ElementAtOrDefault(2), out var n) ? n : 5000;

const int Levels = 10, Roots = 4, Fanout = 2, Entries = 10_000, Users = 2_000, GroupCount = 200, GroupsPerUser = 5;

var services = new ServiceCollection().AddLogging().AddSingleton(TimeProvider.System)
    .AddPortalDatabase(provider, connection).AddSingleton<PermissionService>().BuildServiceProvider();
var contexts = services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
var random = new Random(42);
var setup = Stopwatch.StartNew();
await using (var db = await contexts.CreateDbContextAsync())
{
    await db.Database.EnsureDeletedAsync();
    await db.Database.MigrateAsync();
}

// The tree: 4 roots, each a binary tree 10 levels deep (4,092 folders); one folder in eight stops inheritance.
var folders = new List<Folder>();
var leaves = new List<Folder>();
void Grow(Folder parent, int level)
{
    if (level == Levels) { leaves.Add(parent); return; }
    for (var i = 0; i < Fanout; i++)
    {
        var id = Guid.NewGuid();
        var child = new Folder { Id = id, Name = $"L{level + 1}-{i}", ParentId = parent.Id, Path = Folder.ChildPath(parent.Path, id), InheritPermissions = random.Next(8) != 0 };
        folders.Add(child);
        Grow(child, level + 1);
    }
}
for (var r = 0; r < Roots; r++)
{
    var id = Guid.NewGuid();
    var root = new Folder { Id = id, Name = $"Root {r}", Path = Folder.ChildPath(null, id) };
    folders.Add(root);
    Grow(root, 1);
}
var users = Enumerable.Range(0, Users).Select(i => new User { Id = Guid.NewGuid(), Issuer = "bench", Subject = $"u{i}", DisplayName = $"User {i}" }).ToList();
var groups = Enumerable.Range(0, GroupCount).Select(i => new Group { Id = Guid.NewGuid(), Name = $"group-{i}" }).ToList();
var memberships = users.SelectMany(u => groups.OrderBy(_ => random.Next()).Take(GroupsPerUser).Select(g => new GroupMembership { UserId = u.Id, GroupId = g.Id })).ToList();
Rights RandomRights() => (Rights)random.Next(1, 16);
// 10,000 entries: seven in ten for a user, three for a group, on random folders (no two for one principal on one folder).
var entries = new Dictionary<(Guid, Guid), PermissionEntry>();
while (entries.Count < Entries)
{
    var folder = folders[random.Next(folders.Count)];
    var forGroup = random.Next(10) < 3;
    var principal = forGroup ? groups[random.Next(groups.Count)].Id : users[random.Next(users.Count)].Id;
    entries.TryAdd((folder.Id, principal), new PermissionEntry
    {
        Id = Guid.NewGuid(), FolderId = folder.Id, Rights = RandomRights(),
        UserId = forGroup ? null : principal, GroupId = forGroup ? principal : null,
    });
}
await using (var db = await contexts.CreateDbContextAsync())
{
    db.ChangeTracker.AutoDetectChangesEnabled = false;
    db.Folders.AddRange(folders);
    db.Users.AddRange(users);
    db.Groups.AddRange(groups);
    db.GroupMemberships.AddRange(memberships);
    db.PermissionEntries.AddRange(entries.Values);
    await db.SaveChangesAsync();
}
Console.Error.WriteLine($"setup: {folders.Count} folders, {users.Count} users, {groups.Count} groups, {entries.Count} entries in {setup.Elapsed.TotalSeconds:0.0} s");

var permissions = services.GetRequiredService<PermissionService>();
// The checks: a random user on a random folder at the bottom (10 levels deep), the worst case for the path.
var cases = Enumerable.Range(0, checks).Select(_ => (User: users[random.Next(users.Count)].Id, Folder: leaves[random.Next(leaves.Count)].Id)).ToList();

// Count the SQL commands one check sends (EF Core's diagnostic events), to show it is one query.
var commands = 0;
using var subscription = DiagnosticListener.AllListeners.Subscribe(new CommandCounter(() => Interlocked.Increment(ref commands)));

for (var i = 0; i < 500; i++) await permissions.GetRightsAsync(new Actor(cases[i % cases.Count].User, false), cases[i % cases.Count].Folder); // warm-up
commands = 0;
var granted = 0;
var times = new double[cases.Count];
for (var i = 0; i < cases.Count; i++)
{
    var started = Stopwatch.GetTimestamp();
    var rights = await permissions.GetRightsAsync(new Actor(cases[i].User, false), cases[i].Folder);
    times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    if (rights != Rights.None) granted++;
}
var commandsPerCheck = (double)commands / cases.Count;

// The explain view for comparison (not on the hot path; several queries, names and reasons).
var explainTimes = new double[Math.Min(1000, cases.Count)];
for (var i = 0; i < explainTimes.Length; i++)
{
    var started = Stopwatch.GetTimestamp();
    await permissions.ExplainAsync(cases[i].User, cases[i].Folder);
    explainTimes[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
}

static double Percentile(double[] values, double p)
{
    var sorted = values.Order().ToArray();
    return sorted[(int)Math.Clamp(Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
}
var median = Percentile(times, 50);
var label = args.ElementAtOrDefault(3) is { Length: > 0 } note ? $"{providerName} ({note})" : providerName;
Console.WriteLine($"| {label} | {folders.Count:N0} folders, {Levels} levels, {entries.Count:N0} entries | {cases.Count:N0} | {median:0.000} | {Percentile(times, 95):0.000} | {Percentile(times, 99):0.000} | {commandsPerCheck:0.##} | {granted * 100.0 / cases.Count:0}% | {Percentile(explainTimes, 50):0.000} | {(median < 1 ? "pass" : "FAIL")} |");

await services.DisposeAsync();
if (provider == DatabaseProvider.Sqlite) { Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools(); try { Directory.Delete(tempFolder, true); } catch (IOException) { } }
return median < 1 ? 0 : 1;

sealed class CommandCounter(Action counted) : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>
{
    private bool _printed;

    public void OnNext(DiagnosticListener listener)
    {
        if (listener.Name == "Microsoft.EntityFrameworkCore") listener.Subscribe(this);
    }

    public void OnNext(KeyValuePair<string, object?> e)
    {
        if (e.Key != "Microsoft.EntityFrameworkCore.Database.Command.CommandExecuting") return;
        counted();
        // BENCH_SQL=1 prints the statement once, for EXPLAIN.
        if (Environment.GetEnvironmentVariable("BENCH_SQL") == "1" && !_printed && e.Value is Microsoft.EntityFrameworkCore.Diagnostics.CommandEventData data)
        {
            _printed = true;
            Console.Error.WriteLine(data.Command.CommandText);
            foreach (System.Data.Common.DbParameter p in data.Command.Parameters) Console.Error.WriteLine($"{p.ParameterName} = {p.Value}");
        }
    }

    public void OnCompleted() { }
    public void OnError(Exception error) { }
}
