using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Portal.App.Documents;
using Portal.App.Folders;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Folders;

/// <summary>What the folder page's components need for bunit: the real catalog and operations on a real database.</summary>
public static class FolderPageServices
{
    public static DocumentStorage Add(IServiceCollection services, DataServices data)
    {
        var storage = new DocumentStorage(TestEnvironment.NewTempFolder("storage"));
        services.AddSingleton(storage);
        services.AddSingleton(new FolderCatalog(data.Contexts, data.Permissions));
        var names = new Portal.Data.Database.FolderNameLock();
        var documentNames = new Portal.Data.Database.DocumentNameLock();
        services.AddSingleton(new FolderOperations(data.Contexts, data.Permissions, data.Audit, TimeProvider.System, names, NullLogger<FolderOperations>.Instance));
        services.AddSingleton(new DocumentOperations(data.Contexts, data.Permissions, storage, data.Audit, TimeProvider.System, documentNames, NullLogger<DocumentOperations>.Instance));
        services.AddSingleton(new RecycleBin(data.Contexts, storage, data.Audit, names, documentNames, NullLogger<RecycleBin>.Instance));
        services.AddSingleton(Options.Create(new UploadOptions { MaxFileBytes = 1024 * 1024 }));
        // The folder page records FolderOpened (no circuit in a component test: no address or browser to record).
        services.AddSingleton(data.Audit);
        services.AddSingleton(data.Contexts); // and names a refused folder in that record
        services.AddScoped<Portal.App.Components.ClientConnection>().AddScoped<Portal.App.Components.ViewerClock>();
        return storage;
    }
}
