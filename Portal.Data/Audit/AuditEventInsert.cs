using System.Data.Common;
using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Portal.Data.Audit;

/// <summary>
/// Inserts a batch of audit events with one parameterised INSERT, bypassing EF's change tracker and update pipeline,
/// which were most of the audit writer's cost on the download path. Table, columns and value conversions all come
/// from the EF model (the same type mappings SaveChanges uses), so the rows are exactly what EF would write.
/// <list type="bullet">
/// <item>SQLite: the statement is prepared once per batch and run per event (SQLite otherwise parses every statement anew).</item>
/// <item>PostgreSQL: one round trip for the batch (a <see cref="DbBatch"/>); Npgsql's auto-prepare keeps the one statement prepared.</item>
/// <item>Anything else (SQL Server): EF's SaveChanges, the path every provider is tested on.</item>
/// </list>
/// </summary>
internal sealed class AuditEventInsert
{
    private static readonly ConditionalWeakTable<IModel, AuditEventInsert> ByModel = new();

    private readonly string _sql;
    private readonly Column[] _columns;

    private sealed record Column(string Parameter, RelationalTypeMapping Mapping, PropertyInfo Property, bool Nullable);

    private AuditEventInsert(DbContext db)
    {
        var entity = db.Model.FindEntityType(typeof(AuditEvent))!;
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var sql = db.GetService<ISqlGenerationHelper>();
        var properties = entity.GetProperties().ToArray();
        _columns = properties.Select((p, i) => new Column(sql.GenerateParameterName("p" + i),
            (RelationalTypeMapping)p.GetTypeMapping(), p.PropertyInfo!, p.IsNullable)).ToArray();
        _sql = $"INSERT INTO {sql.DelimitIdentifier(table.Name, table.Schema)} ("
            + string.Join(", ", properties.Select(p => sql.DelimitIdentifier(p.GetColumnName(table)!)))
            + ") VALUES ("
            + string.Join(", ", properties.Select((_, i) => sql.GenerateParameterNamePlaceholder("p" + i)))
            + ")";
    }

    public static AuditEventInsert For(DbContext db) => ByModel.GetValue(db.Model, _ => new AuditEventInsert(db));

    /// <summary>Inserts <paramref name="events"/> in the context's current transaction.</summary>
    public async Task InsertAsync(PortalDbContext db, IReadOnlyList<AuditEvent> events)
    {
        var connection = db.Database.GetDbConnection();
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("Audit events are inserted inside the writer's transaction.");
        switch (db.Database.ProviderName)
        {
            case "Microsoft.EntityFrameworkCore.Sqlite":
            {
                await using var command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = _sql;
                foreach (var e in events)
                {
                    // New parameter values each time; the prepared statement stays (it is kept while the text is unchanged).
                    command.Parameters.Clear();
                    AddParameters(command, command.Parameters, e);
                    await command.ExecuteNonQueryAsync();
                }
                break;
            }
            case "Npgsql.EntityFrameworkCore.PostgreSQL":
            {
                await using var batch = connection.CreateBatch();
                await using var factory = connection.CreateCommand(); // DbParameters are created by a command
                batch.Transaction = transaction;
                foreach (var e in events)
                {
                    var command = batch.CreateBatchCommand();
                    command.CommandText = _sql;
                    AddParameters(factory, command.Parameters, e);
                    batch.BatchCommands.Add(command);
                }
                await batch.ExecuteNonQueryAsync();
                break;
            }
            default:
                db.AuditEvents.AddRange(events);
                await db.SaveChangesAsync();
                break;
        }
    }

    private void AddParameters(DbCommand factory, DbParameterCollection parameters, AuditEvent e)
    {
        // The type mapping's CreateParameter applies the model's value converter (enum to text, time to ticks on SQLite).
        foreach (var c in _columns)
            parameters.Add(c.Mapping.CreateParameter(factory, c.Parameter, c.Property.GetValue(e), c.Nullable));
    }
}
