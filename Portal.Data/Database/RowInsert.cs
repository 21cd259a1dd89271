using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Portal.Data.Database;

/// <summary>
/// Inserts a batch of rows with one parameterised INSERT, bypassing EF's change tracker and update pipeline, which
/// were most of the cost of the two writes every download makes (its audit event and its delivery receipt). Table,
/// columns and value conversions all come from the EF model (the same type mappings SaveChanges uses), so the rows
/// are exactly what EF would write. Columns the database generates (an identity key) are left to it and not read back.
/// <list type="bullet">
/// <item>SQLite: the statement is prepared once per batch and run per row (SQLite otherwise parses every statement anew).</item>
/// <item>PostgreSQL: one round trip for the batch (a <see cref="DbBatch"/>); Npgsql's auto-prepare keeps the one statement prepared.</item>
/// <item>Anything else (SQL Server): EF's SaveChanges, the path every provider is tested on.</item>
/// </list>
/// </summary>
public sealed class RowInsert<T> where T : class
{
    private static readonly ConditionalWeakTable<IModel, RowInsert<T>> ByModel = new();

    private readonly string _sql;
    private readonly Column[] _columns;

    // EF's compiled getter, not reflection: this runs for every column of every row.
    private sealed record Column(string Parameter, RelationalTypeMapping Mapping, IClrPropertyGetter Value, bool Nullable);

    private RowInsert(DbContext db)
    {
        var entity = db.Model.FindEntityType(typeof(T))!;
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var sql = db.GetService<ISqlGenerationHelper>();
        var properties = entity.GetProperties().Where(p => p.ValueGenerated == ValueGenerated.Never).ToArray();
        _columns = properties.Select((p, i) => new Column(sql.GenerateParameterName("p" + i),
            (RelationalTypeMapping)p.GetTypeMapping(), p.GetGetter(), p.IsNullable)).ToArray();
        _sql = $"INSERT INTO {sql.DelimitIdentifier(table.Name, table.Schema)} ("
            + string.Join(", ", properties.Select(p => sql.DelimitIdentifier(p.GetColumnName(table)!)))
            + ") VALUES ("
            + string.Join(", ", properties.Select((_, i) => sql.GenerateParameterNamePlaceholder("p" + i)))
            + ")";
    }

    public static RowInsert<T> For(DbContext db) => ByModel.GetValue(db.Model, _ => new RowInsert<T>(db));

    /// <summary>Inserts <paramref name="rows"/> in the context's current transaction (the caller commits).</summary>
    public async Task InsertAsync(DbContext db, IReadOnlyList<T> rows, CancellationToken ct = default)
    {
        var connection = db.Database.GetDbConnection();
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("Rows are inserted inside the caller's transaction.");
        switch (db.Database.ProviderName)
        {
            case "Microsoft.EntityFrameworkCore.Sqlite":
            {
                await using var command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = _sql;
                foreach (var row in rows)
                {
                    // New parameter values each time; the prepared statement stays (it is kept while the text is unchanged).
                    command.Parameters.Clear();
                    AddParameters(command, command.Parameters, row);
                    await command.ExecuteNonQueryAsync(ct);
                }
                break;
            }
            case "Npgsql.EntityFrameworkCore.PostgreSQL":
            {
                await using var batch = connection.CreateBatch();
                await using var factory = connection.CreateCommand(); // DbParameters are created by a command
                batch.Transaction = transaction;
                foreach (var row in rows)
                {
                    var command = batch.CreateBatchCommand();
                    command.CommandText = _sql;
                    AddParameters(factory, command.Parameters, row);
                    batch.BatchCommands.Add(command);
                }
                await batch.ExecuteNonQueryAsync(ct);
                break;
            }
            default:
                db.Set<T>().AddRange(rows);
                await db.SaveChangesAsync(ct);
                break;
        }
    }

    private void AddParameters(DbCommand factory, DbParameterCollection parameters, T row)
    {
        // The type mapping's CreateParameter applies the model's value converter (enum to text, time to ticks on SQLite).
        foreach (var c in _columns)
            parameters.Add(c.Mapping.CreateParameter(factory, c.Parameter, c.Value.GetClrValueUsingContainingEntity(row), c.Nullable));
    }
}
