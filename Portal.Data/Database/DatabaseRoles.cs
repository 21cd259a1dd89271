using Microsoft.EntityFrameworkCore;

namespace Portal.Data.Database;

/// <summary>
/// Two database roles: the owner (Database:MigrationConnectionString) creates and alters the tables and triggers, the
/// app (Database:ConnectionString) only reads and writes rows. Not being the owner, the app's role cannot drop or
/// disable the audit triggers, alter a table or TRUNCATE: whoever takes over the app cannot switch the append-only rule
/// off (only the owner can, and what the owner does shows against the signed heads).
/// </summary>
public static class DatabaseRoles
{
    /// <summary>A context on <paramref name="connectionString"/> (the owner's), outside the app's pool.</summary>
    public static PortalDbContext OwnerContext(DatabaseProvider provider, string connectionString) => provider switch
    {
        DatabaseProvider.Sqlite => new SqlitePortalDbContext(Options<SqlitePortalDbContext>(provider, connectionString)),
        DatabaseProvider.PostgreSQL => new PostgresPortalDbContext(Options<PostgresPortalDbContext>(provider, connectionString)),
        DatabaseProvider.SqlServer => new SqlServerPortalDbContext(Options<SqlServerPortalDbContext>(provider, connectionString)),
        _ => throw new ArgumentOutOfRangeException(nameof(provider)),
    };

    private static DbContextOptions<T> Options<T>(DatabaseProvider provider, string connectionString) where T : DbContext
    {
        var builder = new DbContextOptionsBuilder<T>();
        PortalDatabase.Configure(builder, provider, connectionString);
        return builder.Options;
    }

    /// <summary>
    /// Run as the owner after migrating: the app's user may SELECT, INSERT, UPDATE and DELETE rows (the triggers still
    /// refuse changes to the audit tables), and use the sequences; nothing else. SQLite has no roles: nothing to do.
    /// </summary>
    public static async Task GrantRowAccessAsync(PortalDbContext owner, DatabaseProvider provider, string appConnectionString, CancellationToken ct = default)
    {
        switch (provider)
        {
            case DatabaseProvider.PostgreSQL:
            {
                var user = new Npgsql.NpgsqlConnectionStringBuilder(appConnectionString).Username
                    ?? throw new InvalidOperationException("Database:ConnectionString names no user.");
                var role = "\"" + user.Replace("\"", "\"\"") + "\"";
                await owner.Database.ExecuteSqlRawAsync($"""
                    GRANT USAGE ON SCHEMA public TO {role};
                    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
                    GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role};
                    """, ct);
                break;
            }
            case DatabaseProvider.SqlServer:
            {
                var login = SqlServerLogin(appConnectionString);
                if (string.IsNullOrEmpty(login)) break; // integrated security: the DBA maps the app's account
                var name = "[" + login.Replace("]", "]]") + "]";
                await owner.Database.ExecuteSqlRawAsync($"""
                    IF DATABASE_PRINCIPAL_ID({Literal(login)}) IS NULL CREATE USER {name} FOR LOGIN {name};
                    ALTER ROLE db_datareader ADD MEMBER {name};
                    ALTER ROLE db_datawriter ADD MEMBER {name};
                    """, ct);
                break;
            }
        }

        static string Literal(string s) => "N'" + s.Replace("'", "''") + "'";
    }

    // Kept apart so the SQL Server assemblies load only when that provider is chosen.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static string SqlServerLogin(string connectionString) =>
        new Microsoft.Data.SqlClient.SqlConnectionStringBuilder(connectionString).UserID;
}
