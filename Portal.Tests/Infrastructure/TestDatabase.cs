using Npgsql;
using Portal.Data.Database;

namespace Portal.Tests.Infrastructure;

/// <summary>A fresh, empty database for one test class, on a real server where the provider has one.</summary>
public abstract class TestDatabase : IAsyncDisposable
{
    public abstract DatabaseProvider Provider { get; }
    public abstract string ConnectionString { get; }
    public abstract ValueTask DisposeAsync();

    public static TestDatabase Create(DatabaseProvider provider) => provider switch
    {
        DatabaseProvider.Sqlite => new SqliteTestDatabase(),
        DatabaseProvider.PostgreSQL => new PostgresTestDatabase(),
        _ => throw new NotSupportedException($"{provider} cannot run here; it is tested offline."),
    };
}

public sealed class SqliteTestDatabase : TestDatabase
{
    private readonly string _folder = TestEnvironment.NewTempFolder("sqlite");
    public override DatabaseProvider Provider => DatabaseProvider.Sqlite;
    public override string ConnectionString => $"Data Source={Path.Combine(_folder, "portal.db")};Pooling=False";

    public override ValueTask DisposeAsync()
    {
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
        return ValueTask.CompletedTask;
    }
}

/// <summary>A database of its own on the run's PostgreSQL server, dropped afterwards.</summary>
public sealed class PostgresTestDatabase : TestDatabase
{
    private readonly string _server;
    private readonly string _name = $"portal_test_{Guid.NewGuid():N}";

    public PostgresTestDatabase()
    {
        _server = TestEnvironment.PostgresConnectionString
            ?? throw new InvalidOperationException("PORTAL_TEST_POSTGRES is not set: run the tests with ./test.sh, which starts PostgreSQL.");
        // The app's migrations create the tables; the database itself must exist first.
        using var connection = new NpgsqlConnection(_server);
        connection.Open();
        using var create = new NpgsqlCommand($"CREATE DATABASE \"{_name}\"", connection);
        create.ExecuteNonQuery();
    }

    public override DatabaseProvider Provider => DatabaseProvider.PostgreSQL;
    public override string ConnectionString => new NpgsqlConnectionStringBuilder(_server) { Database = _name }.ConnectionString;

    public override async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(_server);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
