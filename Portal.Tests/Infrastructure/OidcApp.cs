using Portal.App.Hosting;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// What a sign-in test class needs: the real OIDC provider (oidc-provider from npm) and the app on a real port,
/// configured for each other, on its own SQLite database with the demo data.
/// </summary>
public sealed class OidcApp : IAsyncDisposable
{
    private OidcApp(TestDatabase database, OidcProvider provider, PortalHost app, Uri address) =>
        (Database, Provider, App, Address) = (database, provider, app, address);

    public TestDatabase Database { get; }
    public OidcProvider Provider { get; }
    public PortalHost App { get; private set; }
    public Uri Address { get; }

    public static async Task<OidcApp> StartAsync()
    {
        var database = new SqliteTestDatabase();
        var provider = await OidcProvider.CreateAsync();
        var app = new PortalHost(database, DeliveryMode.Direct, seedDemo: true, settings: provider.PortalSettings());
        var address = app.StartOnKestrel();
        await provider.StartAsync(address);
        return new OidcApp(database, provider, app, address);
    }

    /// <summary>
    /// Replaces the app by one with more settings, on the same address: the provider registered that redirect URI.
    /// Same database; disposed with the rest.
    /// </summary>
    public async Task<PortalHost> RestartAppAsync(IDictionary<string, string?> moreSettings)
    {
        await App.DisposeAsync();
        var settings = new Dictionary<string, string?>(Provider.PortalSettings());
        foreach (var (key, value) in moreSettings) settings[key] = value;
        App = new PortalHost(Database, DeliveryMode.Direct, settings: settings);
        App.StartOnKestrel(Address.Port);
        return App;
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        await Provider.DisposeAsync();
        await Database.DisposeAsync();
    }
}

/// <summary>A test class signed in through the real provider: one <see cref="OidcApp"/> for the class's tests.</summary>
public abstract class OidcAppTests : IAsyncLifetime
{
    protected OidcApp oidc = null!;
    protected PortalHost app => oidc.App;
    protected OidcProvider provider => oidc.Provider;
    protected Uri address => oidc.Address;

    public async Task InitializeAsync() => oidc = await OidcApp.StartAsync();

    public async Task DisposeAsync() => await oidc.DisposeAsync();
}
