using System.Data.Common;
using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Portal.App.Auth;
using Portal.App.Documents;
using Portal.App.Folders;
using Portal.App.Permissions;
using Portal.App.Users;
using Portal.Data;
using Portal.Data.Audit;
using Portal.Data.Database;
using Portal.Data.Documents;
using Portal.Data.Folders;
using Portal.Data.Permissions;
using Portal.Data.Sessions;
using Portal.Data.Users;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Audit;

/// <summary>
/// A client that hangs up at any moment leaves a change with its event, or neither. Each state-changing operation runs
/// again and again with its request's cancellation fired at the 1st, 2nd, 3rd… database command it sends (and at its
/// commit), until it runs through: every moment between two round trips is an abort point. After each attempt, the
/// change is made exactly when one new event of its action was committed.
/// </summary>
public abstract class ChangesWithTheirEventsTests(DatabaseProvider provider) : IAsyncLifetime
{
    private TestDatabase database = null!;
    private ServiceProvider services = null!;
    private Caller admin = null!;
    private Guid root;
    private int serial;

    /// <summary>Fires the armed cancellation when the flow that armed it sends its n-th command (or commits).</summary>
    private sealed class CancelAtCommand : DbCommandInterceptor, IDbTransactionInterceptor
    {
        public static readonly CancelAtCommand Instance = new();
        private sealed class Arm(int at, CancellationTokenSource cts) { public int Seen; public int At => at; public CancellationTokenSource Cts => cts; }
        private static readonly AsyncLocal<Arm?> Armed = new();

        public static CancellationTokenSource ArmAt(int n)
        {
            var cts = new CancellationTokenSource();
            Armed.Value = new Arm(n, cts);
            return cts;
        }

        public static void Disarm() => Armed.Value = null;

        private static void Step()
        {
            if (Armed.Value is { } arm && ++arm.Seen == arm.At) arm.Cts.Cancel();
        }

        public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand c, CommandEventData e, InterceptionResult<DbDataReader> r, CancellationToken ct = default)
        { Step(); return base.ReaderExecutingAsync(c, e, r, ct); }
        public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand c, CommandEventData e, InterceptionResult<int> r, CancellationToken ct = default)
        { Step(); return base.NonQueryExecutingAsync(c, e, r, ct); }
        public override ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand c, CommandEventData e, InterceptionResult<object> r, CancellationToken ct = default)
        { Step(); return base.ScalarExecutingAsync(c, e, r, ct); }

        public ValueTask<InterceptionResult> TransactionCommittingAsync(DbTransaction t, TransactionEventData e, InterceptionResult r, CancellationToken ct = default)
        { Step(); return ValueTask.FromResult(r); }
    }

    /// <summary>An operation to abort: what it needs (made first, not aborted), the change, and whether it was made.</summary>
    private sealed record Operation(AuditAction Action, Func<Task<object>> Arrange, Func<object, CancellationToken, Task> Act, Func<PortalDbContext, object, Task<bool>> Made);

    public async Task InitializeAsync()
    {
        database = TestDatabase.Create(provider);
        services = new ServiceCollection()
            .AddLogging()
            .AddSingleton(TimeProvider.System)
            .AddSingleton<IInterceptor>(CancelAtCommand.Instance)
            .AddSingleton<IInterceptor>(SqlServerTranslationCheck.Instance)
            .AddPortalDatabase(database.Provider, database.ConnectionString)
            .AddSingleton<PermissionService>()
            .AddSingleton<AuditLog>()
            .AddSingleton(new DocumentStorage(TestEnvironment.NewTempFolder("storage")))
            .AddSingleton<FolderNameLock>().AddSingleton<DocumentNameLock>().AddSingleton<PermissionGrantLock>()
            .AddSingleton<FolderOperations>().AddSingleton<DocumentOperations>().AddSingleton<RecycleBin>()
            .AddSingleton<PermissionAdministration>()
            .AddSingleton(sp => new SessionStore(sp.GetRequiredService<IDbContextFactory<PortalDbContext>>(), TimeProvider.System))
            .AddSingleton<UserAdministration>()
            .BuildServiceProvider();
        await using var db = await Contexts.CreateDbContextAsync();
        await db.Database.MigrateAsync();
        var adminUser = new User { Id = Guid.NewGuid(), Issuer = "test", Subject = "admin", DisplayName = "Ada Admin", Roles = PortalRoles.Admin };
        db.Users.Add(adminUser);
        db.Groups.Add(new Group { Id = Guid.NewGuid(), Name = "staff" });
        root = Guid.NewGuid();
        db.Folders.Add(new Folder { Id = root, Name = "Root", Path = Folder.ChildPath(null, root) });
        await db.SaveChangesAsync();
        admin = new Caller(new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(PortalClaims.UserId, adminUser.Id.ToString()), new Claim(ClaimTypes.Role, PortalRoles.Admin)], "test")));
    }

    public async Task DisposeAsync()
    {
        await services.DisposeAsync();
        await database.DisposeAsync();
    }

    private IDbContextFactory<PortalDbContext> Contexts => services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
    private FolderOperations Folders => services.GetRequiredService<FolderOperations>();
    private DocumentOperations Documents => services.GetRequiredService<DocumentOperations>();
    private RecycleBin Bin => services.GetRequiredService<RecycleBin>();
    private PermissionAdministration Permissions => services.GetRequiredService<PermissionAdministration>();
    private string Unique(string prefix) => $"{prefix} {Interlocked.Increment(ref serial)}";

    private async Task<Guid> NewFolderAsync(Guid? parent = null) =>
        (await Folders.CreateAsync(admin, parent ?? root, Unique("Folder"))).Id!.Value;

    private async Task<Guid> NewDocumentAsync(Guid folder)
    {
        var content = await services.GetRequiredService<DocumentStorage>().PutAsync(new MemoryStream(Guid.NewGuid().ToByteArray()));
        await using var db = await Contexts.CreateDbContextAsync();
        var path = await db.Folders.Where(f => f.Id == folder).Select(f => f.Path).SingleAsync();
        var (filed, _) = await Documents.FileUploadAsync(admin, folder, path, Unique("Doc") + ".txt", content, true, default);
        return filed!.Id;
    }

    private async Task<PermissionEntry> NewEntryAsync()
    {
        var folder = await NewFolderAsync();
        var view = (await Permissions.GrantAsync(admin.User, null, folder, new GrantTo(null, "staff"), Rights.Browse)).Value!;
        await using var db = await Contexts.CreateDbContextAsync();
        return await db.PermissionEntries.AsNoTracking().SingleAsync(p => p.Id == view.Id);
    }

    private static Guid G(object o) => (Guid)o;

    private IEnumerable<(string Name, Operation Operation)> Operations()
    {
        yield return ("folder create", new(AuditAction.FolderCreated, async () => Unique("Created"),
            (a, ct) => Folders.CreateAsync(admin, root, (string)a, ct), (db, a) => db.Folders.AnyAsync(f => f.Name == (string)a)));
        yield return ("folder rename", new(AuditAction.FolderRenamed, async () => await NewFolderAsync(),
            (a, ct) => Folders.RenameAsync(admin, G(a), "Renamed " + a, ct), (db, a) => db.Folders.AnyAsync(f => f.Id == G(a) && f.Name.StartsWith("Renamed"))));
        yield return ("folder move", new(AuditAction.FolderMoved, async () => (await NewFolderAsync(), await NewFolderAsync()),
            (a, ct) => Folders.MoveAsync(admin, (((Guid, Guid))a).Item1, (((Guid, Guid))a).Item2, ct),
            (db, a) => db.Folders.AnyAsync(f => f.Id == (((Guid, Guid))a).Item1 && f.ParentId == (((Guid, Guid))a).Item2)));
        yield return ("folder delete", new(AuditAction.FolderDeleted, async () => { var f = await NewFolderAsync(); await NewDocumentAsync(f); return f; },
            (a, ct) => Folders.DeleteAsync(admin, G(a), true, ct), (db, a) => db.Folders.AnyAsync(f => f.Id == G(a) && f.IsDeleted)));
        yield return ("document rename", new(AuditAction.DocumentRenamed, async () => await NewDocumentAsync(root),
            (a, ct) => Documents.RenameAsync(admin, G(a), "Renamed " + a + ".txt", ct), (db, a) => db.Documents.AnyAsync(d => d.Id == G(a) && d.DisplayName.StartsWith("Renamed"))));
        yield return ("document move", new(AuditAction.DocumentMoved, async () => (await NewDocumentAsync(root), await NewFolderAsync()),
            (a, ct) => Documents.MoveAsync(admin, (((Guid, Guid))a).Item1, (((Guid, Guid))a).Item2, ct),
            (db, a) => db.Documents.AnyAsync(d => d.Id == (((Guid, Guid))a).Item1 && d.FolderId == (((Guid, Guid))a).Item2)));
        yield return ("document delete", new(AuditAction.DocumentDeleted, async () => await NewDocumentAsync(root),
            (a, ct) => Documents.DeleteAsync(admin, G(a), ct), (db, a) => db.Documents.AnyAsync(d => d.Id == G(a) && d.IsDeleted)));
        yield return ("new version", new(AuditAction.DocumentVersionAdded, async () => await NewDocumentAsync(root),
            (a, ct) => Documents.AddVersionAsync(admin, G(a), "v2.txt", new MemoryStream(Guid.NewGuid().ToByteArray()), 1000, ct),
            (db, a) => db.Documents.AnyAsync(d => d.Id == G(a) && d.CurrentVersion == 2)));
        yield return ("upload", new(AuditAction.DocumentUploaded, async () =>
            (Unique("Upload"), await services.GetRequiredService<DocumentStorage>().PutAsync(new MemoryStream(Guid.NewGuid().ToByteArray()))),
            async (a, ct) => { var (name, content) = ((string, StoredContent))a; _ = await Documents.FileUploadAsync(admin, root, "/Root", name, content, true, ct); },
            (db, a) => db.Documents.AnyAsync(d => d.DisplayName == (((string, StoredContent))a).Item1)));
        yield return ("bin restore", new(AuditAction.DocumentRestored, async () => { var d = await NewDocumentAsync(root); return ((await Documents.DeleteAsync(admin, d)).Id!.Value, d); },
            (a, ct) => Bin.RestoreAsync(admin, (((Guid, Guid))a).Item1, ct), (db, a) => db.Documents.AnyAsync(d => d.Id == (((Guid, Guid))a).Item2 && !d.IsDeleted)));
        yield return ("bin remove", new(AuditAction.BinEmptied, async () => { var d = await NewDocumentAsync(root); return ((await Documents.DeleteAsync(admin, d)).Id!.Value, d); },
            (a, ct) => Bin.EmptyAsync(admin, (((Guid, Guid))a).Item1, ct), async (db, a) => !await db.Documents.AnyAsync(d => d.Id == (((Guid, Guid))a).Item2)));
        yield return ("permission grant", new(AuditAction.PermissionGranted, async () => await NewFolderAsync(),
            (a, ct) => Permissions.GrantAsync(admin.User, null, G(a), new GrantTo(null, "staff"), Rights.Browse, ct), (db, a) => db.PermissionEntries.AnyAsync(p => p.FolderId == G(a))));
        yield return ("permission change", new(AuditAction.PermissionChanged, async () => (await NewEntryAsync()).Id,
            (a, ct) => Permissions.ChangeAsync(admin.User, null, G(a), Rights.Browse | Rights.Download, ct),
            (db, a) => db.PermissionEntries.AnyAsync(p => p.Id == G(a) && p.Rights == (Rights.Browse | Rights.Download))));
        yield return ("permission revoke", new(AuditAction.PermissionRevoked, async () => (await NewEntryAsync()).Id,
            (a, ct) => Permissions.RevokeAsync(admin.User, null, G(a), ct), async (db, a) => !await db.PermissionEntries.AnyAsync(p => p.Id == G(a))));
        yield return ("inheritance", new(AuditAction.InheritanceChanged, async () => await NewFolderAsync(await NewFolderAsync()),
            (a, ct) => Permissions.SetInheritanceAsync(admin.User, null, G(a), false, ct), (db, a) => db.Folders.AnyAsync(f => f.Id == G(a) && !f.InheritPermissions)));
        yield return ("user disable", new(AuditAction.UserDisabled, async () =>
            {
                await using var db = await Contexts.CreateDbContextAsync();
                var user = new User { Id = Guid.NewGuid(), Issuer = "test", Subject = Unique("user"), DisplayName = Unique("Person") };
                db.Users.Add(user);
                db.Sessions.Add(new UserSession { Id = Guid.NewGuid(), UserId = user.Id, CreatedAt = DateTimeOffset.UtcNow, LastActivityAt = DateTimeOffset.UtcNow });
                await db.SaveChangesAsync();
                return user.Id;
            },
            (a, ct) => services.GetRequiredService<UserAdministration>().SetDisabledAsync(admin.User, null, G(a), true, ct),
            async (db, a) =>
            {
                var disabled = await db.Users.AnyAsync(u => u.Id == G(a) && u.IsDisabled);
                // Its sessions end with it, or stay with it.
                if (disabled != await db.Sessions.AnyAsync(s => s.UserId == G(a) && s.EndedAt != null))
                    failures.Add($"user disable: disabled {disabled}, but its session {(disabled ? "still open" : "ended")}");
                return disabled;
            }));
    }

    private readonly List<string> failures = [];

    [Fact]
    public async Task Every_change_aborted_at_any_moment_is_committed_with_its_event_or_not_at_all()
    {
        var (changes, attempts) = (0, 0);
        foreach (var (name, op) in Operations())
        {
            for (var at = 1; at <= 80; at++)
            {
                var arranged = await op.Arrange();
                var before = await AllowedEventsAsync(op.Action);
                var cts = CancelAtCommand.ArmAt(at);
                var aborted = false;
                try
                {
                    await op.Act(arranged, cts.Token);
                }
                catch (Exception) when (cts.IsCancellationRequested)
                {
                    aborted = true;
                }
                finally
                {
                    CancelAtCommand.Disarm();
                }
                attempts++;
                await using var db = await Contexts.CreateDbContextAsync();
                var made = await op.Made(db, arranged);
                var events = await AllowedEventsAsync(op.Action) - before;
                if (made) changes++;
                if (events != (made ? 1 : 0))
                    failures.Add($"{name}, aborted at command {at}: change {(made ? "made" : "not made")}, {events} event(s)");
                if (!aborted && !cts.IsCancellationRequested)
                {
                    // Ran through without reaching the abort point: every moment of it has been tried.
                    if (!made) failures.Add($"{name}: not made even when not aborted");
                    break;
                }
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {attempts} attempts ({changes} changes made) broke the rule:\n" + string.Join("\n", failures));
        Assert.True(changes >= 16, $"only {changes} changes were made");

        // The chain the seam and the writer both appended to still holds.
        await using var check = await Contexts.CreateDbContextAsync();
        var chain = await check.AuditEvents.AsNoTracking().OrderBy(e => e.Id).ToListAsync();
        for (var i = 1; i < chain.Count; i++)
        {
            Assert.Equal(chain[i - 1].Id + 1, chain[i].Id);
            Assert.Equal(chain[i - 1].Hash, chain[i].PreviousHash);
            Assert.True(chain[i].OccurredAt >= chain[i - 1].OccurredAt);
            Assert.Equal(AuditChain.ComputeHash(chain[i]), chain[i].Hash);
        }
    }

    [Fact]
    public async Task A_parent_folders_manager_cannot_delete_or_move_a_subtree_holding_a_folder_they_do_not_manage()
    {
        var parent = await NewFolderAsync();
        var hidden = await NewFolderAsync(parent);
        var elsewhere = await NewFolderAsync();
        Guid managerId;
        await using (var db = await Contexts.CreateDbContextAsync())
        {
            var manager = new User { Id = Guid.NewGuid(), Issuer = "test", Subject = "manager", DisplayName = "Max Manager" };
            db.Users.Add(manager);
            await db.SaveChangesAsync();
            managerId = manager.Id;
        }
        Assert.True((await Permissions.GrantAsync(admin.User, null, parent, new GrantTo(managerId.ToString(), null), Rights.Browse | Rights.Manage)).Succeeded);
        Assert.True((await Permissions.GrantAsync(admin.User, null, elsewhere, new GrantTo(managerId.ToString(), null), Rights.Browse | Rights.Manage)).Succeeded);
        Assert.True((await Permissions.SetInheritanceAsync(admin.User, null, hidden, false)).Succeeded);
        var managerCaller = new Caller(new ClaimsPrincipal(new ClaimsIdentity([new Claim(PortalClaims.UserId, managerId.ToString())], "test")));

        // The delete question counts what the person may see: not the folder they have no right in.
        Assert.Equal((0, 0), await Folders.CountContentsAsync(managerCaller.Actor!, parent));
        Assert.Equal((1, 0), await Folders.CountContentsAsync(admin.Actor!, parent));
        Assert.Equal(OperationStatus.Forbidden, (await Folders.DeleteAsync(managerCaller, parent, true)).Status);
        Assert.Equal(OperationStatus.Forbidden, (await Folders.MoveAsync(managerCaller, parent, elsewhere)).Status);

        await using var check = await Contexts.CreateDbContextAsync();
        Assert.False(await check.Folders.AnyAsync(f => (f.Id == parent || f.Id == hidden) && f.IsDeleted));
        Assert.Equal(root, await check.Folders.Where(f => f.Id == parent).Select(f => f.ParentId).SingleAsync());
        // Once the subfolder inherits again, the same manager may.
        Assert.True((await Permissions.SetInheritanceAsync(admin.User, null, hidden, true)).Succeeded);
        Assert.Equal(OperationStatus.Done, (await Folders.MoveAsync(managerCaller, parent, elsewhere)).Status);
    }

    private async Task<int> AllowedEventsAsync(AuditAction action)
    {
        await using var db = await Contexts.CreateDbContextAsync();
        return await db.AuditEvents.CountAsync(e => e.Action == action && e.Outcome == AuditOutcome.Allowed);
    }
}

public sealed class SqliteChangesWithTheirEventsTests() : ChangesWithTheirEventsTests(DatabaseProvider.Sqlite);

public sealed class PostgresChangesWithTheirEventsTests() : ChangesWithTheirEventsTests(DatabaseProvider.PostgreSQL);
