// Seeds one folder with N documents (plus other folders for search), then times what the folder page asks the server
// for when it opens a folder: the folder's breadcrumb and rights, and the first page of its documents, in each order.
// Prints a Markdown table of median / p95 / max in milliseconds.
using System.Diagnostics;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.App.Folders;
using Portal.Data;
using Portal.Data.Audit;
using Portal.Data.Database;
using Portal.Data.Documents;
using Portal.Data.Folders;
using Portal.Data.Permissions;
using Portal.Data.Users;

var options = args.Select((a, i) => (a, i)).Where(x => x.a.StartsWith("--")).ToDictionary(x => x.a[2..], x => args[x.i + 1]);
var provider = Enum.Parse<DatabaseProvider>(options.GetValueOrDefault("provider", "Sqlite"));
var connection = options["connection"];
var documentCount = int.Parse(options.GetValueOrDefault("documents", "10000"), CultureInfo.InvariantCulture);
var runs = int.Parse(options.GetValueOrDefault("runs", "30"), CultureInfo.InvariantCulture);

await using var services = new ServiceCollection()
    .AddLogging()
    .AddSingleton(TimeProvider.System)
    .AddPortalDatabase(provider, connection)
    .AddSingleton<PermissionService>()
    .AddSingleton<FolderCatalog>()
    .BuildServiceProvider();
var contexts = services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
var catalog = services.GetRequiredService<FolderCatalog>();

var seeding = Stopwatch.StartNew();
Guid staffId, bigFolder;
await using (var db = await contexts.CreateDbContextAsync())
{
    await db.Database.MigrateAsync();
    db.ChangeTracker.AutoDetectChangesEnabled = false;
    staffId = Guid.NewGuid();
    var group = new Group { Id = Guid.NewGuid(), Name = "staff" };
    db.Users.Add(new User { Id = staffId, Issuer = "bench", Subject = "staff", DisplayName = "Sam Staff" });
    db.Groups.Add(group);
    db.GroupMemberships.Add(new GroupMembership { UserId = staffId, GroupId = group.Id });
    // The grant is two levels up, so the rights come by inheritance as they usually do.
    var company = NewFolder("Company", null);
    var archive = NewFolder("Archive", company);
    var big = NewFolder("Big folder", archive);
    bigFolder = big.Id;
    db.Folders.AddRange(company, archive, big);
    db.PermissionEntries.Add(new PermissionEntry { Id = Guid.NewGuid(), FolderId = company.Id, GroupId = group.Id, Rights = Rights.Browse | Rights.Download });
    await db.SaveChangesAsync();

    var random = new Random(42);
    var words = new[] { "Report", "Invoice", "Minutes", "Contract", "Résumé", "Plan", "Budget", "Équipe", "Policy", "Notes" };
    var hash = new string('a', 64);
    var pending = new List<Document>();
    async Task FlushAsync()
    {
        db.Documents.AddRange(pending);
        await db.SaveChangesAsync();
        db.ChangeTracker.Clear();
        pending.Clear();
    }
    for (var i = 0; i < documentCount; i++)
    {
        pending.Add(new Document
        {
            Id = Guid.CreateVersion7(), FolderId = big.Id, DisplayName = $"{words[random.Next(words.Length)]} {i:00000}.pdf",
            ContentHash = hash, Size = random.Next(1, 50_000_000), ContentType = "application/pdf",
        });
        if (pending.Count == 2000) await FlushAsync();
    }
    // Elsewhere: 1,000 more folders with 5 documents each, half of them not visible to staff (for search).
    var hidden = NewFolder("Hidden", null);
    db.Folders.Add(hidden);
    for (var f = 0; f < 1000; f++)
    {
        var folder = NewFolder($"Project {f:0000}", f % 2 == 0 ? company : hidden);
        db.Folders.Add(folder);
        for (var d = 0; d < 5; d++)
            pending.Add(new Document { Id = Guid.CreateVersion7(), FolderId = folder.Id, DisplayName = $"{words[d]} project {f:0000}.docx", ContentHash = hash, Size = d * 1000, ContentType = "application/octet-stream" });
        if (pending.Count >= 2000) await FlushAsync();
    }
    await FlushAsync();
}
Console.Error.WriteLine($"seeded {documentCount} documents in one folder (+5,000 elsewhere) in {seeding.Elapsed.TotalSeconds:0.0} s");

var staff = new Actor(staffId, IsAdmin: false);
var admin = new Actor(Guid.NewGuid(), IsAdmin: true);
var cases = new (string Name, Func<Task<int>> Run)[]
{
    ("first page, by name (staff)", () => OpenAsync(staff, DocumentSort.Name, false, 0)),
    ("first page, newest first (staff)", () => OpenAsync(staff, DocumentSort.Date, true, 0)),
    ("first page, largest first (staff)", () => OpenAsync(staff, DocumentSort.Size, true, 0)),
    ("first page, by name (admin)", () => OpenAsync(admin, DocumentSort.Name, false, 0)),
    ("page 100 of 200, by name (staff)", () => OpenAsync(staff, DocumentSort.Name, false, 99 * 50)),
    ("search \"budget 01\" in all folders (staff)", async () => (await catalog.SearchAsync(staff, "budget 01", 0, 50)).Rows.Count),
    ("search \"équipe\" in all folders (staff)", async () => (await catalog.SearchAsync(staff, "equipe", 0, 50)).Rows.Count),
    // The tree is computed whole (rights by inheritance over every folder), then rendered only where opened.
    ("folder tree of 1,004 folders (staff)", async () => (await catalog.GetTreeAsync(staff)).Sum(Count)),
};
static int Count(FolderNode n) => 1 + n.Children.Sum(Count);

Console.WriteLine($"| {provider}: {documentCount:N0} documents in one folder, {runs} runs each | median ms | p95 ms | max ms | rows |");
Console.WriteLine("|---|---:|---:|---:|---:|");
foreach (var (name, run) in cases)
{
    for (var i = 0; i < 5; i++) await run(); // warm-up: connection pool, query cache, JIT
    var times = new List<double>();
    var rows = 0;
    for (var i = 0; i < runs; i++)
    {
        var watch = Stopwatch.StartNew();
        rows = await run();
        times.Add(watch.Elapsed.TotalMilliseconds);
    }
    times.Sort();
    double At(double q) => times[Math.Min(times.Count - 1, (int)Math.Ceiling(q * times.Count) - 1)];
    Console.WriteLine(FormattableString.Invariant($"| {name} | {At(0.5):0.0} | {At(0.95):0.0} | {times[^1]:0.0} | {rows} |"));
}

async Task<int> OpenAsync(Actor actor, DocumentSort sort, bool descending, int skip)
{
    // What FolderContents does when a folder opens: the breadcrumb and rights, then the grid's first LoadData.
    var listing = await catalog.GetListingAsync(actor, bigFolder) ?? throw new InvalidOperationException("no folder");
    if (!listing.CanBrowse) throw new InvalidOperationException("staff cannot browse the folder");
    var page = await catalog.GetDocumentPageAsync(actor, bigFolder, skip, 50, sort, descending);
    if (page.Total < documentCount) throw new InvalidOperationException($"expected {documentCount} documents, got {page.Total}");
    return page.Rows.Count;
}

static Folder NewFolder(string name, Folder? parent)
{
    var id = Guid.NewGuid();
    return new Folder { Id = id, Name = name, ParentId = parent?.Id, Path = Folder.ChildPath(parent?.Path, id) };
}
