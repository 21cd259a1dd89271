using Portal.App.Hosting;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Database;

/// <summary>`Portal.App check-storage`, run as an operator runs it, on a store with a missing and a damaged file.</summary>
public class StorageCheckTests
{
    [Fact]
    public async Task The_command_names_missing_and_damaged_files_and_exits_2_then_0_once_repaired()
    {
        await using var database = new SqliteTestDatabase();
        string storageRoot;
        Scenario scenario;
        string restrictedPath;
        byte[] restrictedBytes;
        await using (var host = new PortalHost(database))
        {
            scenario = await Scenario.CreateAsync(host.Services);
            storageRoot = TestEnvironment.NewTempFolder("storage-copy");
            CopyFolder(host.StorageRoot, storageRoot);
        }
        var sharedPath = Path.Combine(storageRoot, scenario.SharedContentHash[..2], scenario.SharedContentHash[2..4], scenario.SharedContentHash);
        restrictedPath = Directory.GetFiles(storageRoot, "*", SearchOption.AllDirectories).Single(f => f != sharedPath && !f.Contains(".incoming"));
        restrictedBytes = await File.ReadAllBytesAsync(restrictedPath);
        File.Delete(sharedPath);
        await File.WriteAllTextAsync(restrictedPath, "tampered");

        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Database__Provider"] = "Sqlite",
            ["Database__ConnectionString"] = database.ConnectionString,
            ["Storage__Root"] = storageRoot,
        };
        var broken = await AppProcess.RunUntilExitAsync(environment, TimeSpan.FromSeconds(60), StorageCheck.Command);

        Assert.Equal(2, broken.ExitCode);
        Assert.Contains($"MISSING {scenario.SharedContentHash}: \"{Scenario.SharedDocumentName}\"", broken.StandardOutput);
        Assert.Contains($"DAMAGED ", broken.StandardOutput);
        Assert.Contains($"\"{Scenario.RestrictedDocumentName}\" (the bytes no longer match their hash)", broken.StandardOutput);
        Assert.Contains("Checked 2 stored files for 2 documents", broken.StandardOutput);
        Assert.Contains("1 missing, 1 damaged.", broken.StandardOutput);

        Directory.CreateDirectory(Path.GetDirectoryName(sharedPath)!);
        await File.WriteAllBytesAsync(sharedPath, scenario.SharedContent);
        await File.WriteAllBytesAsync(restrictedPath, restrictedBytes);
        var repaired = await AppProcess.RunUntilExitAsync(environment, TimeSpan.FromSeconds(60), StorageCheck.Command);
        Assert.Equal(0, repaired.ExitCode);
        Assert.Contains("0 missing, 0 damaged.", repaired.StandardOutput);
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
