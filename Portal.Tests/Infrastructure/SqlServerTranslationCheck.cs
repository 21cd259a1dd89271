using System.Collections.Concurrent;
using System.Linq.Expressions;
using System.Reflection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Query;
using Microsoft.EntityFrameworkCore.Query.Internal;
using Portal.Data.Database;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// SQL Server cannot run here, so every LINQ query the app compiles in any test (on SQLite or PostgreSQL) is also
/// translated, offline, under the SQL Server provider: the same expression, its query roots moved to a SQL Server
/// context. A query that does not translate there fails the test that ran it, naming the query.
/// </summary>
public sealed class SqlServerTranslationCheck : IQueryExpressionInterceptor
{
    public static readonly SqlServerTranslationCheck Instance = new();

    private static readonly DbContextOptions<SqlServerPortalDbContext> Options =
        new DbContextOptionsBuilder<SqlServerPortalDbContext>()
            .UseSqlServer("Server=unreachable.invalid;Database=Portal;TrustServerCertificate=true").Options;

    /// <summary>Every distinct query seen so far in this test run (its LINQ form) with its SQL Server SQL.</summary>
    public ConcurrentDictionary<string, string> Translated { get; } = new();

    public Expression QueryCompilationStarting(Expression queryExpression, QueryExpressionEventData eventData)
    {
        var linq = queryExpression.Print();
        if (!Translated.ContainsKey(linq))
        {
            try
            {
                Translated[linq] = Translate(queryExpression);
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"This query does not translate under SQL Server:\n{linq}\n{e.Message}", e);
            }
        }
        return queryExpression;
    }

    /// <summary>
    /// Compiles the whole query (terminal operator included) under SQL Server, which is where an untranslatable
    /// query fails, and returns the SQL of the query it reads from (ToQueryString).
    /// </summary>
    public static string Translate(Expression query)
    {
        using var db = new SqlServerPortalDbContext(Options);
        var retargeted = new MoveRoots(db).Visit(query);

        var compile = typeof(IQueryCompiler).GetMethod(nameof(IQueryCompiler.CreateCompiledQuery))!
            .MakeGenericMethod(ResultType(retargeted.Type));
        try
        {
            compile.Invoke(db.GetService<IQueryCompiler>(), [retargeted]);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }

        var source = new GiveParametersValues().Visit(QueryOf(retargeted));
        return ((IQueryable)db.Users).Provider.CreateQuery(source).ToQueryString();
    }

    private static Type ResultType(Type type) =>
        type.IsGenericType && typeof(IQueryable).IsAssignableFrom(type)
            ? typeof(IEnumerable<>).MakeGenericType(type.GetGenericArguments()[0])
            : type;

    /// <summary>
    /// A terminal operator (First, Count, Any, Max, ExecuteDelete...) returns a value, not a query: this is the query
    /// it reads from, its predicate kept as a Where.
    /// </summary>
    private static Expression QueryOf(Expression query)
    {
        while (!typeof(IQueryable).IsAssignableFrom(query.Type)
               && query is MethodCallExpression { Arguments.Count: > 0 } call
               && typeof(IQueryable).IsAssignableFrom(call.Arguments[0].Type))
        {
            var source = call.Arguments[0];
            var element = source.Type.GetGenericArguments()[0];
            query = call.Arguments.Count == 2
                    && call.Arguments[1] is UnaryExpression { Operand: LambdaExpression { ReturnType: var returns } lambda }
                    && returns == typeof(bool) && call.Method.Name is not ("ExecuteUpdate" or "Select")
                ? Expression.Call(typeof(Queryable), nameof(Queryable.Where), [element], source, Expression.Quote(lambda))
                : source;
        }
        return query;
    }

    private sealed class MoveRoots(DbContext target) : ExpressionVisitor
    {
        protected override Expression VisitExtension(Expression node) => node is EntityQueryRootExpression root
            ? ((IQueryable)typeof(DbContext).GetMethod(nameof(DbContext.Set), Type.EmptyTypes)!
                .MakeGenericMethod(root.EntityType.ClrType).Invoke(target, null)!).Expression
            : base.VisitExtension(node);
    }

    /// <summary>ToQueryString needs a value for each parameter: a sample of the right type, as a captured variable.</summary>
    private sealed class GiveParametersValues : ExpressionVisitor
    {
        protected override Expression VisitExtension(Expression node) => node is QueryParameterExpression parameter
            ? Captured(parameter.Type)
            : base.VisitExtension(node);

        private static Expression Captured(Type type)
        {
            var holder = Activator.CreateInstance(typeof(Box<>).MakeGenericType(type), Sample(type))!;
            return Expression.Field(Expression.Constant(holder), "Value");
        }

        private static object? Sample(Type type)
        {
            // As long as the longest path column, so a Substring of a parameter (the folder-path prefixes) has its characters.
            if (type == typeof(string)) return new string('s', 1000);
            if (type.IsArray) return Array.CreateInstance(type.GetElementType()!, 1);
            if (type.IsGenericType && type.GetGenericTypeDefinition() is var generic
                && (generic == typeof(List<>) || generic == typeof(IEnumerable<>) || generic == typeof(IReadOnlyList<>)
                    || generic == typeof(IReadOnlyCollection<>) || generic == typeof(ICollection<>) || generic == typeof(IList<>)))
            {
                var list = (System.Collections.IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(type.GetGenericArguments()[0]))!;
                list.Add(Sample(type.GetGenericArguments()[0]));
                return list;
            }
            return type.IsValueType ? Activator.CreateInstance(type) : null;
        }
    }

    private sealed class Box<T>(T value)
    {
        public readonly T Value = value;
    }
}
