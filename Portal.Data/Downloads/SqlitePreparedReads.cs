using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Portal.Data.Folders;
using Portal.Data.Permissions;

namespace Portal.Data.Downloads;

/// <summary>
/// The download decision's reads on SQLite, on a few long-lived connections that keep their statements prepared.
/// Microsoft.Data.Sqlite compiles a statement for every command (it has no statement cache, dotnet/efcore#14044), and
/// compiling the document and grants queries cost more than running them: about a sixth of the app's CPU per download.
/// The SQL is the SQL EF generates for <see cref="EfDownloadReads"/> (the tests compare the two on the same data).
/// </summary>
public sealed class SqlitePreparedReads(string connectionString) : IDisposable
{
    /// <summary>Idle connections kept; more are opened under load and closed when they come back to a full pool.</summary>
    private static readonly int MaxIdle = Math.Max(4, 2 * Environment.ProcessorCount);

    private readonly ConcurrentBag<Reads> _idle = [];
    private volatile bool _disposed;

    internal IDownloadReads Rent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _idle.TryTake(out var reads) ? reads : new Reads(this, connectionString);
    }

    private void Return(Reads reads)
    {
        if (reads.Broken || _disposed || _idle.Count >= MaxIdle) reads.Close();
        else _idle.Add(reads);
    }

    public void Dispose()
    {
        _disposed = true;
        while (_idle.TryTake(out var reads)) reads.Close();
    }

    private const string LiveDocumentSql = """
        SELECT "d"."Id", "d"."DisplayName", "d"."ContentHash", "d"."Size", "d"."ContentType", "d"."FolderId", "f"."Path", "d"."CurrentVersion"
        FROM "Documents" AS "d"
        INNER JOIN "Folders" AS "f" ON "d"."FolderId" = "f"."Id"
        WHERE "d"."Id" = @id AND NOT ("d"."IsDeleted")
        LIMIT 2
        """;

    private const string VersionSql = """
        SELECT "v"."ContentHash", "v"."Size", "v"."ContentType"
        FROM "DocumentVersions" AS "v"
        WHERE "v"."DocumentId" = @id AND "v"."Number" = @number
        LIMIT 2
        """;

    private const string AccessVersionSql = """
        SELECT "a"."Version"
        FROM "AccessVersion" AS "a"
        WHERE "a"."Id" = 1
        LIMIT 1
        """;

    /// <summary>The folders on a path of <paramref name="depth"/> folders, with the grants on each that reach the user.</summary>
    private static string GrantsOnPathSql(int depth) => $"""
        SELECT "f"."Id", "f"."Name", "f"."InheritPermissions", "p0"."Rights"
        FROM "Folders" AS "f"
        LEFT JOIN (
            SELECT "p"."Rights", "p"."FolderId"
            FROM "PermissionEntries" AS "p"
            WHERE "p"."UserId" = @user OR ("p"."GroupId" IS NOT NULL AND EXISTS (
                SELECT 1
                FROM "GroupMemberships" AS "g"
                WHERE "g"."UserId" = @user AND "g"."GroupId" = "p"."GroupId"))
        ) AS "p0" ON "f"."Id" = "p0"."FolderId"
        WHERE "f"."Path" IN ({string.Join(", ", Enumerable.Range(1, depth).Select(level => "@p" + level))})
        """;

    /// <summary>
    /// A statement and its parameters' names, in the order the reads set them. A class: the prepared commands are
    /// found by reference, not by hashing the SQL on every read.
    /// </summary>
    private sealed class Statement(string sql, params string[] parameters)
    {
        public string Sql => sql;
        public string[] Parameters => parameters;
    }

    private static readonly Statement LiveDocument = new(LiveDocumentSql, "@id");
    private static readonly Statement Version = new(VersionSql, "@id", "@number");
    private static readonly Statement CurrentAccessVersion = new(AccessVersionSql);
    private static readonly Statement[] GrantsOnPathByDepth = [.. Enumerable.Range(0, PermissionService.MaxDepth + 1)
        .Select(depth => new Statement(GrantsOnPathSql(depth), ["@user", .. Enumerable.Range(1, depth).Select(level => "@p" + level)]))];

    /// <summary>EF stores a Guid on SQLite as its upper-case text: parameters must match that exactly.</summary>
    private static string Text(Guid id) => id.ToString("D").ToUpperInvariant();

    /// <summary>One connection and its prepared commands; disposing it gives it back to the pool.</summary>
    private sealed class Reads : IDownloadReads
    {
        private readonly SqlitePreparedReads _pool;
        private readonly SqliteConnection _connection;
        private readonly Dictionary<Statement, SqliteCommand> _prepared = [];

        public Reads(SqlitePreparedReads pool, string connectionString)
        {
            _pool = pool;
            _connection = new SqliteConnection(connectionString);
            _connection.Open();
        }

        /// <summary>Set when a read failed: the connection is closed instead of going back to the pool.</summary>
        public bool Broken { get; private set; }

        private SqliteCommand Command(Statement statement)
        {
            if (_prepared.TryGetValue(statement, out var command)) return command;
            command = _connection.CreateCommand();
            command.CommandText = statement.Sql;
            // Each value is bound by its own type (text for ids and paths, integer for a version number).
            foreach (var name in statement.Parameters) command.Parameters.Add(new SqliteParameter { ParameterName = name });
            command.Prepare();
            _prepared[statement] = command;
            return command;
        }

        private T Run<T>(Func<T> read, CancellationToken ct)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                return read();
            }
            catch
            {
                Broken = true;
                throw;
            }
        }

        public Task<DeliverableDocument?> LiveDocumentAsync(Guid id, CancellationToken ct) => Task.FromResult(Run(() =>
        {
            var command = Command(LiveDocument);
            command.Parameters[0].Value = Text(id);
            using var reader = command.ExecuteReader();
            if (!reader.Read()) return null;
            var document = new DeliverableDocument(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3),
                reader.GetString(4), reader.GetGuid(5), reader.GetString(6), reader.GetInt32(7));
            return reader.Read() ? throw new InvalidOperationException("Two documents have one id.") : document;
        }, ct));

        public Task<VersionContent?> VersionAsync(Guid documentId, int number, CancellationToken ct) => Task.FromResult(Run(() =>
        {
            var command = Command(Version);
            command.Parameters[0].Value = Text(documentId);
            command.Parameters[1].Value = number;
            using var reader = command.ExecuteReader();
            if (!reader.Read()) return null;
            var version = new VersionContent(reader.GetString(0), reader.GetInt64(1), reader.GetString(2));
            return reader.Read() ? throw new InvalidOperationException("Two versions have one number.") : version;
        }, ct));

        public Task<long> AccessVersionAsync(CancellationToken ct) => Task.FromResult(Run(() =>
            (long)Command(CurrentAccessVersion).ExecuteScalar()!, ct));

        public Task<PermissionService.PathAccess> PathAccessAsync(Actor actor, string materializedPath, CancellationToken ct) => Task.FromResult(Run(() =>
        {
            var pathIds = Folder.AncestorIdsOf(materializedPath);
            var access = new PermissionService.PathAccessBuilder(pathIds);
            var depth = Math.Clamp(pathIds.Count, 0, PermissionService.MaxDepth);
            if (depth == 0) return access.For(actor);
            var command = Command(GrantsOnPathByDepth[depth]);
            command.Parameters[0].Value = Text(actor.UserId);
            // The materialised paths of the folder and its ancestors: its path's prefixes, level by level.
            for (var level = 1; level <= depth; level++)
                command.Parameters[level].Value = materializedPath[..Math.Min(materializedPath.Length, Folder.PathLengthAt(level))];
            using var reader = command.ExecuteReader();
            while (reader.Read())
                access.Add(new PermissionService.FolderGrantRow(reader.GetGuid(0), reader.GetString(1), reader.GetBoolean(2),
                    reader.IsDBNull(3) ? null : (Rights)reader.GetInt32(3)));
            return access.For(actor);
        }, ct));

        public ValueTask DisposeAsync()
        {
            _pool.Return(this);
            return ValueTask.CompletedTask;
        }

        public void Close()
        {
            foreach (var command in _prepared.Values) command.Dispose();
            _connection.Dispose();
        }
    }
}
