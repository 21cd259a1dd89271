using Portal.App.Hosting;

namespace Portal.App.Documents.Storage;

/// <summary>"Storage:Kind": Local (a folder, the default) or S3 (an S3-compatible bucket).</summary>
public static class StorageRegistration
{
    public static IServiceCollection AddDocumentStorage(this IServiceCollection services, IConfiguration config, PortalSettings settings)
    {
        var kind = config["Storage:Kind"] is { Length: > 0 } text ? text : "Local";
        if (kind.Equals("Local", StringComparison.OrdinalIgnoreCase))
        {
            services.AddSingleton(new DocumentStorage(settings.StorageRoot));
            return services;
        }
        if (!kind.Equals("S3", StringComparison.OrdinalIgnoreCase))
            throw new StartupException($"Storage:Kind '{kind}' is not known. Use Local or S3.");

        var options = S3StorageOptions.Read(config);
        services.AddSingleton(options);
        services.AddSingleton<S3DocumentStore>();
        services.AddSingleton(sp => new DocumentStorage(sp.GetRequiredService<S3DocumentStore>()));
        // Wrong keys or a missing bucket stop start-up now, not at the first download.
        services.AddHostedService<StorageStartup>();
        return services;
    }
}

/// <summary>Before the server listens: the store must accept a write, or start-up stops with one clear line.</summary>
public sealed class StorageStartup(DocumentStorage storage, ILogger<StorageStartup> log) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            await storage.Store.CheckWritableAsync(timeout.Token);
        }
        catch (StorageUnavailableException e)
        {
            throw new StartupException($"Cannot use the document storage: {e.Message}", e);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new StartupException($"Cannot use the document storage: the {storage.Store.Description} did not answer within 30 s. Check Storage:S3:ServiceUrl.");
        }
        log.LogInformation("Documents are stored in the {Store}", storage.Store.Description);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
