using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Portal.App.Documents;
using Portal.Data;

namespace Portal.App.Hosting;

/// <summary>
/// `Portal.App check-storage`: reads every stored file that documents point at and checks that it exists and
/// that its SHA-256 is its name. Exit code 0 when all is well, 2 when something is missing or damaged.
/// </summary>
public static class StorageCheck
{
    public const string Command = "check-storage";

    public static async Task<int> RunAsync(IServiceProvider services, TextWriter output, CancellationToken ct = default)
    {
        var storage = services.GetRequiredService<DocumentStorage>();
        await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(ct);
        // One pass over the content hashes (identical content is stored once), with the names that use each.
        var byHash = await db.Documents.AsNoTracking()
            .Select(d => new { d.ContentHash, d.DisplayName, d.IsDeleted })
            .ToListAsync(ct);
        var groups = byHash.GroupBy(d => d.ContentHash).OrderBy(g => g.Key).ToList();

        int missing = 0, damaged = 0;
        var buffer = new byte[1 << 20];
        foreach (var group in groups)
        {
            var names = string.Join(", ", group.Select(d => d.IsDeleted ? $"\"{d.DisplayName}\" (deleted)" : $"\"{d.DisplayName}\""));
            await using var file = await storage.Store.OpenReadAsync(group.Key, ct);
            if (file is null)
            {
                missing++;
                await output.WriteLineAsync($"MISSING {group.Key}: {names}");
                continue;
            }
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            {
                int read;
                while ((read = await file.ReadAsync(buffer, ct)) > 0) sha.AppendData(buffer, 0, read);
            }
            if (Convert.ToHexStringLower(sha.GetHashAndReset()) != group.Key)
            {
                damaged++;
                await output.WriteLineAsync($"DAMAGED {group.Key}: {names} (the bytes no longer match their hash)");
            }
        }
        await output.WriteLineAsync($"Checked {groups.Count} stored files for {byHash.Count} documents in {storage.Store.Description}: {missing} missing, {damaged} damaged.");
        return missing + damaged == 0 ? 0 : 2;
    }
}
