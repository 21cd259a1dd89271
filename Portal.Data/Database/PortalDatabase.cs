using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Portal.Data.Database;

/// <summary>Registers the database for the configured provider and hands out <see cref="PortalDbContext"/>s.</summary>
public static class PortalDatabase
{
    /// <summary>
    /// Adds <see cref="IDbContextFactory{PortalDbContext}"/> (for Blazor components and singletons) and a scoped
    /// <see cref="PortalDbContext"/>, both backed by the provider's own context type.
    /// </summary>
    public static IServiceCollection AddPortalDatabase(this IServiceCollection services, DatabaseProvider provider, string connectionString)
    {
        services.AddSingleton<TimestampInterceptor>();
        services.AddSingleton(new DatabaseWriteGate(provider));
        services.AddSingleton<Permissions.AccessVersionWatch>();
        if (provider == DatabaseProvider.Sqlite)
        {
            // The download decision's reads: on connections that keep their statements prepared.
            services.AddSingleton(_ => new Downloads.SqlitePreparedReads(connectionString));
        }
        services.AddSingleton(sp => new Downloads.DownloadReads(
            sp.GetRequiredService<IDbContextFactory<PortalDbContext>>(), sp.GetService<Downloads.SqlitePreparedReads>()));
        return provider switch
        {
            DatabaseProvider.Sqlite => Add<SqlitePortalDbContext>(services, provider, connectionString),
            DatabaseProvider.PostgreSQL => Add<PostgresPortalDbContext>(services, provider, connectionString),
            DatabaseProvider.SqlServer => Add<SqlServerPortalDbContext>(services, provider, connectionString),
            _ => throw new ArgumentOutOfRangeException(nameof(provider)),
        };
    }

    private static IServiceCollection Add<TContext>(IServiceCollection services, DatabaseProvider provider, string connectionString)
        where TContext : PortalDbContext
    {
        // Pooled: a download creates a context or two; reusing them keeps the hot path cheap.
        services.AddPooledDbContextFactory<TContext>((sp, options) =>
        {
            Configure(options, provider, connectionString);
            options.AddInterceptors(sp.GetRequiredService<TimestampInterceptor>());
            // Any others registered (the tests add one that translates every query under SQL Server too).
            options.AddInterceptors(sp.GetServices<Microsoft.EntityFrameworkCore.Diagnostics.IInterceptor>());
        });
        services.AddSingleton<IDbContextFactory<PortalDbContext>, PortalDbContextFactory<TContext>>();
        services.AddScoped<PortalDbContext>(sp => sp.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext());
        return services;
    }

    /// <summary>Points <paramref name="options"/> at the provider; also used by design-time factories and tests.</summary>
    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder options, DatabaseProvider provider, string connectionString) =>
        provider switch
        {
            DatabaseProvider.Sqlite => options.UseSqlite(connectionString),
            DatabaseProvider.PostgreSQL => options.UseNpgsql(WithNpgsqlDefaults(connectionString)),
            DatabaseProvider.SqlServer => UseSqlServer(options, connectionString),
            _ => throw new ArgumentOutOfRangeException(nameof(provider)),
        };

    /// <summary>
    /// Npgsql settings for the app's workload, each unless the connection string sets it itself:
    /// - automatic statement preparation (`Max Auto Prepare=50`): PostgreSQL then plans the hot statements (the
    ///   permission check, the download's document query) once instead of on every request, which was most of their
    ///   cost (bench/permissions.sh). Behind PgBouncer in transaction mode older than 1.21, set `Max Auto Prepare=0`.
    /// - no session reset when a connection goes back to the pool (`No Reset On Close=true`): the reset is seven
    ///   statements (RESET ALL, pg_advisory_unlock_all(), DISCARD …) on every rent, about a tenth of PostgreSQL's CPU
    ///   per download decision. The app leaves no session state behind: it never SETs a session variable, LISTENs,
    ///   makes temporary tables or takes session-level advisory locks (only pg_advisory_xact_lock); keep it so.
    /// </summary>
    public static string WithNpgsqlDefaults(string connectionString)
    {
        // What the string itself says (Npgsql's own builder reports every keyword it knows as present).
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        if (!given.ContainsKey("Max Auto Prepare") && !given.ContainsKey("MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = 50;
            builder.AutoPrepareMinUsages = 2;
        }
        if (!given.ContainsKey("No Reset On Close") && !given.ContainsKey("NoResetOnClose")) builder.NoResetOnClose = true;
        return builder.ConnectionString;
    }

    // Kept apart so the SQL Server assemblies load only when that provider is chosen.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static DbContextOptionsBuilder UseSqlServer(DbContextOptionsBuilder options, string connectionString) =>
        options.UseSqlServer(connectionString);

    private sealed class PortalDbContextFactory<TContext>(IDbContextFactory<TContext> inner) : IDbContextFactory<PortalDbContext>
        where TContext : PortalDbContext
    {
        public PortalDbContext CreateDbContext() => inner.CreateDbContext();
    }
}
