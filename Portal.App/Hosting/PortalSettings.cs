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
    System.Net.IPEndPoint? ReceiptListen,
    bool Oidc)
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

        var oidc = config.GetSection(OidcOptions.Section).Get<OidcOptions>() ?? new OidcOptions();
        var hasAuthority = !string.IsNullOrWhiteSpace(oidc.Authority);
        // Auth:DevelopmentSignIn can switch the development sign-in off in Development; it can never switch it on elsewhere.
        var devSignInSetting = config.GetValue<bool?>("Auth:DevelopmentSignIn");
        if (devSignInSetting == true && !env.IsDevelopment())
            throw new StartupException(
                $"Auth:DevelopmentSignIn is on in the {env.EnvironmentName} environment. The development sign-in lets anyone " +
                "pick any person; it exists only with ASPNETCORE_ENVIRONMENT=Development. Remove the setting and configure Oidc:Authority.");
        if (devSignInSetting == true && hasAuthority)
            throw new StartupException("Auth:DevelopmentSignIn and Oidc:Authority are both set: use one sign-in.");
        var devSignIn = env.IsDevelopment() && !hasAuthority && devSignInSetting != false;
        if (!devSignIn && !hasAuthority)
            throw new StartupException(
                "No sign-in is configured. Set Oidc:Authority, Oidc:ClientId and Oidc:ClientSecret for your organisation's " +
                "OpenID Connect provider (the development sign-in exists only with ASPNETCORE_ENVIRONMENT=Development).");
        if (hasAuthority)
        {
            if (!Uri.TryCreate(oidc.Authority, UriKind.Absolute, out var authorityUri) || authorityUri.Scheme is not ("https" or "http"))
                throw new StartupException($"Oidc:Authority '{oidc.Authority}' is not an http(s) URL.");
            if (authorityUri.Scheme == "http" && !authorityUri.IsLoopback && oidc.RequireHttps)
                throw new StartupException($"Oidc:Authority '{oidc.Authority}' must use https (plain http is accepted on loopback only).");
            var missing = new[] { ("Oidc:ClientId", oidc.ClientId), ("Oidc:ClientSecret", oidc.ClientSecret) }
                .Where(m => string.IsNullOrWhiteSpace(m.Item2)).Select(m => m.Item1).ToList();
            if (missing.Count > 0)
                throw new StartupException($"Oidc:Authority is set but {string.Join(" and ", missing)} {(missing.Count == 1 ? "is" : "are")} missing.");
            foreach (var (value, role) in oidc.RoleMap)
                if (role is not (Auth.PortalRoles.Admin or Auth.PortalRoles.ComplianceOfficer or Auth.PortalRoles.Staff))
                    throw new StartupException($"Oidc:RoleMap:{value} is '{role}'; a portal role is Admin, ComplianceOfficer or Staff.");
            if (oidc.UnmappedUsers is not ("Refuse" or "Staff"))
                throw new StartupException($"Oidc:UnmappedUsers is '{oidc.UnmappedUsers}'; use Refuse or Staff.");
        }

        var receiptText = config[$"{DeliveryOptions.Section}:ReceiptListen"];
        System.Net.IPEndPoint? receiptListen = null;
        if (!string.IsNullOrWhiteSpace(receiptText) && !System.Net.IPEndPoint.TryParse(receiptText, out receiptListen))
            throw new StartupException($"Delivery:ReceiptListen '{receiptText}' is not an address:port (for example 127.0.0.1:5514).");

        return new PortalSettings(provider, connectionString, db.MigrateOnStart, storageRoot, mode, devSignIn, receiptListen, hasAuthority);
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
