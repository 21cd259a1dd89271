namespace Portal.Data.Database;

public enum DatabaseProvider
{
    Sqlite,
    PostgreSQL,
    SqlServer,
}

/// <summary>The "Database" configuration section.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary>Sqlite (default), PostgreSQL or SqlServer.</summary>
    public string Provider { get; set; } = nameof(DatabaseProvider.Sqlite);

    /// <summary>The ADO.NET connection string. Empty with Sqlite means a file in the app's data folder.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Apply pending migrations at start (default). Off when a DBA applies the migration scripts.</summary>
    public bool MigrateOnStart { get; set; } = true;

    /// <summary>
    /// The owner's connection, used only to migrate (and then to grant the app's user row access); the app itself runs
    /// on <see cref="ConnectionString"/>, a role that cannot alter tables or drop triggers. Empty: migrate on the app's.
    /// </summary>
    public string? MigrationConnectionString { get; set; }

    public DatabaseProvider ParsedProvider => Enum.TryParse<DatabaseProvider>(Provider, ignoreCase: true, out var p)
        ? p
        : throw new InvalidOperationException(
            $"Database:Provider '{Provider}' is not known. Use one of: {string.Join(", ", Enum.GetNames<DatabaseProvider>())}.");
}
