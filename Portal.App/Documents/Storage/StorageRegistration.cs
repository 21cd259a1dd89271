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
            services.AddHostedService<AbandonedUploadCleanup>();
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

/// <summary>
/// At start-up, removes the temp files of uploads a crash left behind in the local store (older than a day, so an
/// upload another instance is receiving right now is never touched). They were never served; now they take no space.
/// </summary>
public sealed class AbandonedUploadCleanup(DocumentStorage storage, TimeProvider clock, ILogger<AbandonedUploadCleanup> log) : IHostedService
{
    public static readonly TimeSpan Age = TimeSpan.FromDays(1);

    public Task StartAsync(CancellationToken ct)
    {
        if (storage.Store is not LocalDocumentStore local) return Task.CompletedTask;
        try
        {
            var removed = local.RemoveAbandonedUploads(clock.GetUtcNow() - Age);
            if (removed > 0) log.LogInformation("Removed {Count} unfinished uploads older than {Age} from {Folder}", removed, Age, local.IncomingFolder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogWarning(e, "Could not clean up unfinished uploads in {Folder}", local.IncomingFolder);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
