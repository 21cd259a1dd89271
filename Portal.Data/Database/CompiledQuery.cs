using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Portal.Data.Database;

/// <summary>
/// An EF compiled query for whichever model the context has: EF refuses to run a compiled query against a model other
/// than the one it was first compiled for, and one process can hold several (the tests run SQLite and PostgreSQL side
/// by side). Compiled once per model, on first use.
/// </summary>
public sealed class CompiledQuery<TQuery>(Func<TQuery> compile) where TQuery : class
{
    private readonly ConditionalWeakTable<IModel, TQuery> _byModel = new();

    public TQuery For(DbContext db) => _byModel.GetValue(db.Model, _ => compile());
}
