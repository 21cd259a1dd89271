using System.Data.Common;
using Portal.Data.Database;

namespace Portal.App.Hosting;

/// <summary>The settings the app needs before it can build, read once and checked with clear messages.</summary>
public sealed record PortalSettings(
    DatabaseProvider DatabaseProvider,
    string ConnectionString,
    bool MigrateOnStart,
    string StorageRoot,
    DeliveryMode DeliveryMode,
    bool DevelopmentSignIn,
    System.Net.IPEndPoint? ReceiptListen)
{
    public static PortalSettings Read(IConfiguration config, IHostEnvironment env)
    {
        var db = config.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        DatabaseProvider provider;
        try { provider = db.ParsedProvider; }
        catch (InvalidOperationException e) { throw new StartupException(e.Message); }

        var dataFolder = Path.Combine(env.ContentRootPath, "App_Data");
        var connectionString = db.ConnectionString;
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            if (provider != DatabaseProvider.Sqlite)
                throw new StartupException($"Database:ConnectionString is required for Database:Provider={provider}.");
            Directory.CreateDirectory(dataFolder);
            connectionString = $"Data Source={Path.Combine(dataFolder, "portal.db")}";
        }

        var storageRoot = config[$"{StorageOptions.Section}:Root"];
        if (string.IsNullOrWhiteSpace(storageRoot)) storageRoot = Path.Combine(dataFolder, "storage");
        storageRoot = Path.GetFullPath(storageRoot);

        var modeText = config[$"{DeliveryOptions.Section}:Mode"] ?? nameof(DeliveryMode.Direct);
        if (!Enum.TryParse<DeliveryMode>(modeText, ignoreCase: true, out var mode))
            throw new StartupException($"Delivery:Mode '{modeText}' is not known. Use Direct or XAccel.");

        var authority = config[$"{OidcOptions.Section}:Authority"];
        var devSignIn = env.IsDevelopment() && string.IsNullOrWhiteSpace(authority);
        if (!devSignIn && string.IsNullOrWhiteSpace(authority))
            throw new StartupException(
                "No sign-in is configured. Set Oidc:Authority to your organisation's OpenID Connect provider " +
                "(the development sign-in exists only with ASPNETCORE_ENVIRONMENT=Development).");
        if (!string.IsNullOrWhiteSpace(authority))
            throw new StartupException(
                "Oidc:Authority is set, but OpenID Connect sign-in is not available in this version yet. " +
                "Remove Oidc:Authority and run in Development to use the development sign-in.");

        var receiptText = config[$"{DeliveryOptions.Section}:ReceiptListen"];
        System.Net.IPEndPoint? receiptListen = null;
        if (!string.IsNullOrWhiteSpace(receiptText) && !System.Net.IPEndPoint.TryParse(receiptText, out receiptListen))
            throw new StartupException($"Delivery:ReceiptListen '{receiptText}' is not an address:port (for example 127.0.0.1:5514).");

        return new PortalSettings(provider, connectionString, db.MigrateOnStart, storageRoot, mode, devSignIn, receiptListen);
    }

    /// <summary>The connection string with any password removed, safe for a log line or an error message.</summary>
    public string SafeConnectionDescription()
    {
        var builder = new DbConnectionStringBuilder { ConnectionString = ConnectionString };
        foreach (var key in new[] { "Password", "Pwd" })
            if (builder.ContainsKey(key)) builder.Remove(key);
        return builder.ConnectionString;
    }
}
