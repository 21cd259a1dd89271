using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Data;
using Portal.Data.Audit;
using Portal.Data.Database;
using Portal.Data.Permissions;

namespace Portal.Tests.Infrastructure;

/// <summary>Portal.Data alone on a migrated test database, for tests of the data rules without the web app.</summary>
public sealed class DataServices : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly bool _ownsDatabase = true;
    public TestDatabase Database { get; }

    private DataServices(TestDatabase database, ServiceProvider services, bool ownsDatabase = true)
    {
        Database = database; _services = services; _ownsDatabase = ownsDatabase;
    }

    /// <summary>Another, independent set of services on the same database: what a second app instance has.</summary>
    public DataServices SecondInstance() => new(Database, Build(Database), ownsDatabase: false);

    private static ServiceProvider Build(TestDatabase database) => new ServiceCollection()
        .AddLogging()
        .AddSingleton(TimeProvider.System)
        .AddSingleton<Microsoft.EntityFrameworkCore.Diagnostics.IInterceptor>(SqlServerTranslationCheck.Instance)
        .AddPortalDatabase(database.Provider, database.ConnectionString)
        .AddSingleton<PermissionService>()
        .AddSingleton<AuditLog>()
        .BuildServiceProvider();

    public static async Task<DataServices> CreateAsync(DatabaseProvider provider)
    {
        var database = TestDatabase.Create(provider);
        var data = new DataServices(database, Build(database));
        await using var db = await data.Contexts.CreateDbContextAsync();
        await db.Database.MigrateAsync();
        return data;
    }

    public IDbContextFactory<PortalDbContext> Contexts => _services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
    public PermissionService Permissions => _services.GetRequiredService<PermissionService>();
    public AuditLog Audit => _services.GetRequiredService<AuditLog>();
    public Portal.Data.Downloads.DownloadReads DownloadReads => _services.GetRequiredService<Portal.Data.Downloads.DownloadReads>();

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        if (_ownsDatabase) await Database.DisposeAsync();
    }
}
