using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Portal.App.Hosting;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Documents;

/// <summary>A test that mounts a filesystem, so it needs root (test.sh runs as root).</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute() => Skip = TestEnvironment.SkipReason(OperatingSystem.IsLinux() && Environment.IsPrivilegedProcess, "root (to mount a tmpfs)");
}

/// <summary>An upload onto a full disk, for real: the storage root is a 4 MiB tmpfs (found by bench/reliability.sh: it was a 500).</summary>
public sealed class FullDiskUploadTests : IAsyncLifetime
{
    private readonly string disk = TestEnvironment.NewTempFolder("small-disk");
    private bool mounted;
    private TestDatabase database = null!;
    private PortalHost host = null!;
    private Scenario scenario = null!;

    public async Task InitializeAsync()
    {
        if (!Environment.IsPrivilegedProcess) return;
        await RunAsync("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", disk);
        mounted = true;
        database = new SqliteTestDatabase();
        host = new PortalHost(database, DeliveryMode.Direct, settings: new Dictionary<string, string?> { ["Storage:Root"] = disk });
        scenario = await Scenario.CreateAsync(host.Services);
    }

    public async Task DisposeAsync()
    {
        if (host is not null) await host.DisposeAsync();
        if (database is not null) await database.DisposeAsync();
        if (mounted) await RunAsync("umount", disk);
        Directory.Delete(disk, recursive: true);
    }

    [RootFact]
    public async Task An_upload_larger_than_the_free_space_is_refused_clearly_and_leaves_nothing()
    {
        var admin = host.CreateBrowserLikeClient();
        await SignIn.AsDemoUserForFormsAsync(admin, "admin");
        var before = await host.WithDbAsync(db => db.Documents.CountAsync());
        var filesBefore = Directory.GetFiles(disk, "*", SearchOption.AllDirectories); // the scenario's documents

        var form = new MultipartFormDataContent { { new ByteArrayContent(RandomNumberGenerator.GetBytes(8 * 1024 * 1024)), "files", "big.bin" } };
        var response = await admin.PostAsync($"/folders/{scenario.SharedFolderId}/documents", form);

        Assert.Equal(HttpStatusCode.InsufficientStorage, response.StatusCode);
        using var problem = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("no space left to store \"big.bin\"", problem.RootElement.GetProperty("detail").GetString());
        Assert.Equal(filesBefore, Directory.GetFiles(disk, "*", SearchOption.AllDirectories)); // no partial file, none in .incoming
        Assert.Equal(before, await host.WithDbAsync(db => db.Documents.CountAsync()));

        // The space was given back: a small file fits.
        var small = new MultipartFormDataContent { { new ByteArrayContent([1, 2, 3]), "files", "small.txt" } };
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/folders/{scenario.SharedFolderId}/documents", small)).StatusCode);
    }

    private static async Task RunAsync(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true })!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)}: {error}");
    }
}
