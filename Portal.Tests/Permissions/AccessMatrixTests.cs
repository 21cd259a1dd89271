using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.App.Hosting;
using Portal.Data;
using Portal.Data.Database;
using Portal.Data.Folders;
using Portal.Data.Permissions;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Permissions;

/// <summary>How the right reaches (or fails to reach) the folder a row looks at.</summary>
public enum Situation
{
    /// <summary>No entry anywhere on the path.</summary>
    NoEntry,
    /// <summary>An entry for the user on the folder itself.</summary>
    DirectUser,
    /// <summary>An entry for the user's group on the folder itself.</summary>
    DirectGroup,
    /// <summary>An entry for the user two folders up.</summary>
    InheritedUser,
    /// <summary>An entry for the user's group two folders up.</summary>
    InheritedGroup,
    /// <summary>Entries for the user and their group at the top; the folder under it stops inheritance.</summary>
    StoppedInheritance,
    /// <summary>The folder stops inheritance but has its own entry for the user.</summary>
    StoppedWithOwnEntry,
    /// <summary>Entries for the user and their group with every right but this one.</summary>
    OtherRightsOnly,
    /// <summary>Every right, but for another group and another person.</summary>
    OtherPrincipalsOnly,
}

/// <summary>
/// One small tree per row of the matrix (so rows cannot disturb each other), the demo people signed in through the
/// real development sign-in, and their antiforgery tokens: built once per database.
/// </summary>
public abstract class AccessMatrixWorld(DatabaseProvider provider) : IAsyncLifetime
{
    public sealed record Branch(Guid FolderId, Guid DocumentId, string DocumentName, byte[] Content);

    private TestDatabase database = null!;
    public PortalHost Host { get; private set; } = null!;
    public Dictionary<string, HttpClient> Clients { get; } = [];
    public Dictionary<string, Guid> UserIds { get; } = [];
    public Dictionary<string, Branch> Branches { get; } = [];

    private static readonly Dictionary<string, string> GroupOf = new() { ["admin"] = "portal-admins", ["staff"] = "staff", ["compliance"] = "compliance" };

    public async Task InitializeAsync()
    {
        database = TestDatabase.Create(provider);
        Host = new PortalHost(database, DeliveryMode.Direct);
        await Scenario.CreateAsync(Host.Services);
        foreach (var who in GroupOf.Keys)
        {
            var client = Host.CreateBrowserLikeClient();
            await SignIn.AsDemoUserForFormsAsync(client, who);
            Clients[who] = client;
        }

        await using var db = await Host.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        foreach (var (key, group) in GroupOf)
            UserIds[key] = await db.Users.Where(u => u.Subject == $"demo-{key}").Select(u => u.Id).SingleAsync();
        var groups = await db.Groups.ToDictionaryAsync(g => g.Name, g => g.Id);
        db.Groups.Add(new Portal.Data.Users.Group { Id = Guid.NewGuid(), Name = "auditors" });

        var n = 0;
        foreach (var row in AccessMatrixTests.Rows())
        {
            var (role, right, situation) = ((string)row[0], Enum.Parse<Rights>((string)row[1]), Enum.Parse<Situation>((string)row[2]));
            var user = UserIds[role];
            var group = groups[GroupOf[role]];
            var otherUser = UserIds[role == "staff" ? "compliance" : "staff"];
            var top = Scenario.NewFolder($"Matrix {++n}");
            var middle = Scenario.NewFolder("Middle", top);
            var target = Scenario.NewFolder("Target", middle);
            db.Folders.AddRange(top, middle, target);

            PermissionEntry Entry(Folder on, Rights rights, Guid? userId = null, Guid? groupId = null) =>
                new() { Id = Guid.NewGuid(), FolderId = on.Id, UserId = userId, GroupId = groupId, Rights = rights };
            switch (situation)
            {
                case Situation.DirectUser: db.PermissionEntries.Add(Entry(target, right, userId: user)); break;
                case Situation.DirectGroup: db.PermissionEntries.Add(Entry(target, right, groupId: group)); break;
                case Situation.InheritedUser: db.PermissionEntries.Add(Entry(top, right, userId: user)); break;
                case Situation.InheritedGroup: db.PermissionEntries.Add(Entry(top, right, groupId: group)); break;
                case Situation.StoppedInheritance:
                    db.PermissionEntries.AddRange(Entry(top, right, userId: user), Entry(top, right, groupId: group));
                    middle.InheritPermissions = false;
                    break;
                case Situation.StoppedWithOwnEntry:
                    db.PermissionEntries.AddRange(Entry(top, Rights.All, groupId: group), Entry(target, right, userId: user));
                    target.InheritPermissions = false;
                    break;
                case Situation.OtherRightsOnly:
                    db.PermissionEntries.AddRange(Entry(target, Rights.All & ~right, userId: user), Entry(top, Rights.All & ~right, groupId: group));
                    break;
                case Situation.OtherPrincipalsOnly:
                    db.PermissionEntries.AddRange(Entry(target, Rights.All, userId: otherUser), Entry(top, Rights.All, groupId: groups["portal-admins"]));
                    break;
            }
            await db.SaveChangesAsync();
            var name = $"matrix-{n}.txt";
            var doc = await TestDocuments.AddAsync(Host.Services, target.Id, name, 64, "text/plain", seed: n);
            var content = TestDocuments.ExpectedBytes(64, n);
            Branches[Key(role, right, situation)] = new Branch(target.Id, doc.Id, name, content);
        }
    }

    public static string Key(string role, Rights right, Situation situation) => $"{role}/{right}/{situation}";

    public async Task DisposeAsync()
    {
        foreach (var c in Clients.Values) c.Dispose();
        await Host.DisposeAsync();
        await database.DisposeAsync();
    }
}

public sealed class SqliteAccessMatrixWorld() : AccessMatrixWorld(DatabaseProvider.Sqlite);
public sealed class PostgresAccessMatrixWorld() : AccessMatrixWorld(DatabaseProvider.PostgreSQL);

/// <summary>
/// The access matrix: roles × rights × how the right is (or is not) granted, each asserted through the real
/// endpoints with a real signed-in session: browse = the folder page lists the document, download = GET /d/{id},
/// upload = POST /folders/{id}/documents, manage = a grant through POST /api/folders/{id}/permissions. Each row
/// also asks the explain API (as an admin) and requires it to give the same answer as enforcement.
/// </summary>
public abstract class AccessMatrixTests(AccessMatrixWorld world)
{
    private static readonly Rights[] AllRights = [Rights.Browse, Rights.Download, Rights.Upload, Rights.Manage];

    private static readonly Situation[] Granting = [Situation.DirectUser, Situation.DirectGroup, Situation.InheritedUser, Situation.InheritedGroup, Situation.StoppedWithOwnEntry];

    /// <summary>role, right, situation, expected ("allow" or "deny"): 36 staff rows, 16 compliance rows, 8 admin rows.</summary>
    public static IEnumerable<object[]> Rows()
    {
        foreach (var right in AllRights)
            foreach (var situation in Enum.GetValues<Situation>())
                yield return ["staff", right.ToString(), situation.ToString(), Granting.Contains(situation) ? "allow" : "deny"];
        foreach (var right in AllRights)
            foreach (var situation in new[] { Situation.NoEntry, Situation.DirectGroup, Situation.InheritedUser, Situation.StoppedInheritance })
                yield return ["compliance", right.ToString(), situation.ToString(), Granting.Contains(situation) ? "allow" : "deny"];
        // Admins bypass grants: allowed even with no entry and behind a folder that stops inheritance.
        foreach (var right in AllRights)
            foreach (var situation in new[] { Situation.NoEntry, Situation.StoppedInheritance })
                yield return ["admin", right.ToString(), situation.ToString(), "allow"];
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task Access_through_the_real_endpoints(string role, string rightName, string situationName, string expected)
    {
        var right = Enum.Parse<Rights>(rightName);
        var branch = world.Branches[AccessMatrixWorld.Key(role, right, Enum.Parse<Situation>(situationName))];
        var client = world.Clients[role];
        var allowed = expected == "allow";

        switch (right)
        {
            case Rights.Browse:
                var page = await client.GetAsync($"/folders/{branch.FolderId}");
                Assert.True(page.StatusCode == HttpStatusCode.OK, $"{page.StatusCode} {page.Headers.Location}");
                var html = await page.Content.ReadAsStringAsync();
                Assert.Equal(allowed, html.Contains(branch.DocumentName));
                Assert.Equal(!allowed, html.Contains("data-testid=\"folder-denied\""));
                break;
            case Rights.Download:
                var download = await client.GetAsync($"/d/{branch.DocumentId}");
                Assert.Equal(allowed ? HttpStatusCode.OK : HttpStatusCode.Forbidden, download.StatusCode);
                if (allowed) Assert.Equal(branch.Content, await download.Content.ReadAsByteArrayAsync());
                break;
            case Rights.Upload:
                using (var form = new MultipartFormDataContent())
                {
                    form.Add(new ByteArrayContent("uploaded"u8.ToArray()), "files", $"up-{role}.txt");
                    var upload = await client.PostAsync($"/folders/{branch.FolderId}/documents", form);
                    Assert.Equal(allowed ? HttpStatusCode.OK : HttpStatusCode.Forbidden, upload.StatusCode);
                }
                var uploaded = await world.Host.WithDbAsync(db => db.Documents.AnyAsync(d => d.FolderId == branch.FolderId && d.DisplayName == $"up-{role}.txt"));
                Assert.Equal(allowed, uploaded);
                break;
            case Rights.Manage:
                var grant = await client.PostAsJsonAsync($"/api/folders/{branch.FolderId}/permissions", new { group = "auditors", rights = new[] { "Browse" } });
                Assert.Equal(allowed ? HttpStatusCode.OK : HttpStatusCode.Forbidden, grant.StatusCode);
                var granted = await world.Host.WithDbAsync(db => db.PermissionEntries.AnyAsync(p => p.FolderId == branch.FolderId && p.Group!.Name == "auditors"));
                Assert.Equal(allowed, granted);
                break;
        }

        // The explain view answers the same question from the same rule: it must agree with what just happened.
        var explained = await world.Clients["admin"].GetFromJsonAsync<JsonElement>(
            $"/api/explain?user={world.UserIds[role]}&folder={branch.FolderId}&right={rightName}");
        Assert.Equal(allowed, explained.GetProperty("allowed").GetBoolean());
        Assert.NotEmpty(explained.GetProperty("reasons").EnumerateArray());
    }

    [Fact]
    public void The_matrix_has_at_least_forty_rows_with_both_answers()
    {
        var rows = Rows().ToList();
        Assert.True(rows.Count >= 40, $"{rows.Count} rows");
        Assert.Contains(rows, r => (string)r[3] == "allow");
        Assert.Contains(rows, r => (string)r[3] == "deny");
    }
}

public sealed class SqliteAccessMatrixTests(SqliteAccessMatrixWorld world) : AccessMatrixTests(world), IClassFixture<SqliteAccessMatrixWorld>;

public sealed class PostgresAccessMatrixTests(PostgresAccessMatrixWorld world) : AccessMatrixTests(world), IClassFixture<PostgresAccessMatrixWorld>;
