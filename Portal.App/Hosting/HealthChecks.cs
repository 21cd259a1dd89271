using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Portal.App.Documents;
using Portal.Data;

namespace Portal.App.Hosting;

/// <summary>/health/live: the process answers. /health/ready: it can do its job (database and storage).</summary>
public static class PortalHealth
{
    public static IServiceCollection AddPortalHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database", tags: ["ready"])
            .AddCheck<StorageHealthCheck>("storage", tags: ["ready"]);
        return services;
    }

    public static IEndpointRouteBuilder MapPortalHealthChecks(this IEndpointRouteBuilder app)
    {
        // Anonymous on purpose (load balancers call them); they say healthy or not and which part, nothing more.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = c => c.Tags.Contains("ready"),
            ResponseWriter = async (http, report) =>
            {
                http.Response.ContentType = "application/json";
                await http.Response.WriteAsJsonAsync(new
                {
                    status = report.Status.ToString(),
                    checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), e.Value.Description }),
                });
            },
        }).AllowAnonymous();
        return app;
    }

    private sealed class DatabaseHealthCheck(IDbContextFactory<PortalDbContext> contexts) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
        {
            try
            {
                await using var db = await contexts.CreateDbContextAsync(ct);
                return await db.Database.CanConnectAsync(ct)
                    ? HealthCheckResult.Healthy("The database answers.")
                    : HealthCheckResult.Unhealthy("The database does not accept connections.");
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return HealthCheckResult.Unhealthy("The database does not accept connections."); // no details: anonymous endpoint
            }
        }
    }

    private sealed class StorageHealthCheck(DocumentStorage storage) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
        {
            try
            {
                await storage.Store.CheckWritableAsync(ct);
                return HealthCheckResult.Healthy("The storage is writable.");
            }
            catch (Portal.App.Documents.Storage.StorageUnavailableException)
            {
                return HealthCheckResult.Unhealthy("The storage is not writable."); // no details: anonymous endpoint
            }
        }
    }
}
