using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Portal.App.Demo;
using Portal.Data;

namespace Portal.App.Hosting;

/// <summary>
/// Before the server listens: open the database, apply migrations, seed demo data if asked. A database that
/// cannot be reached stops start-up with one clear message (<see cref="StartupException"/>), not a stack trace.
/// </summary>
public sealed class DatabaseStartup(IServiceProvider services, PortalSettings settings, IConfiguration config)
    : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        var contexts = services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
        try
        {
            var owner = config[$"{Portal.Data.Database.DatabaseOptions.Section}:MigrationConnectionString"];
            if (settings.MigrateOnStart && !string.IsNullOrWhiteSpace(owner))
            {
                // Migrate as the owner; the app's own role only gets row access (DatabaseRoles).
                await using var ownerDb = Portal.Data.Database.DatabaseRoles.OwnerContext(settings.DatabaseProvider, owner);
                await ownerDb.Database.MigrateAsync(ct);
                await Portal.Data.Database.DatabaseRoles.GrantRowAccessAsync(ownerDb, settings.DatabaseProvider, settings.ConnectionString, ct);
            }
            await using var db = await contexts.CreateDbContextAsync(ct);
            if (settings.MigrateOnStart && string.IsNullOrWhiteSpace(owner)) await db.Database.MigrateAsync(ct);
            else if (!await db.Database.CanConnectAsync(ct)) throw new InvalidOperationException("The database did not accept a connection.");
            // SQLite: write-ahead logging lets readers go on while the audit writer commits (kept in the file).
            if (settings.DatabaseProvider == Portal.Data.Database.DatabaseProvider.Sqlite)
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
        }
        catch (Exception e) when (e is DbException or InvalidOperationException or TimeoutException or IOException
                                      or ArgumentException or System.Net.Sockets.SocketException)
        {
            var message = $"Cannot open the {settings.DatabaseProvider} database ({settings.SafeConnectionDescription()}): " +
                          $"{Innermost(e).Message} Check Database:Provider and Database:ConnectionString.";
            throw new StartupException(message, e);
        }

        if (config.GetValue<bool>($"{DemoOptions.Section}:Seed"))
            await services.GetRequiredService<DemoData>().SeedIfEmptyAsync(ct);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;

    private static Exception Innermost(Exception e) => e.InnerException is null ? e : Innermost(e.InnerException);
}
