using System.Net;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.HttpOverrides;
using Portal.App.Alerts;
using Portal.App.Audit;
using Portal.App.Auth;
using Portal.App.Components;
using Portal.App.Demo;
using Portal.App.Documents;
using Portal.App.Documents.Storage;
using Portal.App.Downloads;
using Portal.App.Forwarding;
using Portal.Data.Audit;
using Portal.Data.Database;
using Portal.Data.Permissions;

namespace Portal.App.Hosting;

/// <summary>Wires the portal: services from settings, then the request pipeline and endpoints.</summary>
public static class PortalApp
{
    /// <summary>Where the organisation's provider sends people back with their sign-in code.</summary>
    public const string OidcCallbackPath = OidcSignIn.CallbackPath;

    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        var settings = PortalSettings.Read(builder.Configuration, builder.Environment);
        var services = builder.Services;

        // The host's own "Hosting failed to start" entry repeats our StartupException with a stack trace;
        // Program prints its one clear line instead.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);

        services.AddSingleton(settings);
        services.AddSingleton(TimeProvider.System);
        services.Configure<DeliveryOptions>(builder.Configuration.GetSection(DeliveryOptions.Section));
        services.Configure<UploadOptions>(builder.Configuration.GetSection(UploadOptions.Section));
        services.AddPortalDatabase(settings.DatabaseProvider, settings.ConnectionString);
        services.AddDocumentStorage(builder.Configuration, settings);
        services.AddSingleton<PermissionService>();
        services.AddSingleton<AuditLog>();
        services.AddSingleton(builder.Configuration.GetSection("Audit").Get<AuditLogOptions>() ?? new AuditLogOptions());
        services.AddSingleton(new AuditCheckpointSigner(builder.Configuration["Audit:CheckpointKey"]));
        AddAuditSigning(builder);
        services.AddSingleton<UserDirectory>();
        services.AddSingleton<DemoData>();
        services.AddSingleton<Portal.App.Folders.FolderCatalog>();
        services.AddSingleton<Portal.App.Folders.FolderOperations>().AddSingleton<DocumentOperations>().AddSingleton<Portal.App.Folders.RecycleBin>();
        services.AddSingleton<AuditQueries>();
        services.AddSingleton<Portal.App.Permissions.PermissionAdministration>();
        // Check-then-write turns (one grant, one folder name at a time), one of each per app instance.
        services.AddSingleton<PermissionGrantLock>().AddSingleton<FolderNameLock>().AddSingleton<DocumentNameLock>();
        services.AddSingleton<Portal.App.Users.UserAdministration>();
        services.AddHttpContextAccessor();
        services.AddHostedService<DatabaseStartup>();
        services.AddHostedService<SettingsAudit>(); // after the database is ready: records changed settings
        // After the database is ready too: signs the chain's head behind the commits, and once more at stop.
        services.AddSingleton<AuditHeadSigning>();
        services.AddSingleton<AuditChainCheck>();
        services.AddHostedService(sp => sp.GetRequiredService<AuditHeadSigning>());
        services.AddPortalHealthChecks();
        services.AddSingleton<PortalMetrics>();
        services.AddSingleton<PrometheusExporter>();
        services.AddScoped<Microsoft.AspNetCore.Components.Server.Circuits.CircuitHandler, CircuitMetricsHandler>();
        services.AddScoped<Microsoft.AspNetCore.Components.Server.Circuits.CircuitHandler, SessionActivityCircuitHandler>();
        // Who is on the circuit (address, browser) and their time zone: captured once per circuit for the components.
        services.AddScoped<Portal.App.Components.ClientConnection>().AddScoped<Portal.App.Components.ViewerClock>();
        services.AddScoped<Microsoft.AspNetCore.Components.Server.Circuits.CircuitHandler, Portal.App.Components.ClientConnectionCircuitHandler>();
        services.AddSingleton<DownloadSlots>();
        services.AddSingleton<DownloadHandler>();
        services.AddSingleton<DecisionCache>();
        services.AddSingleton(sp => DocumentDelivery.For(sp.GetRequiredService<DocumentStorage>(), sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<DeliveryReceiptListener>();
        services.AddHostedService(sp => sp.GetRequiredService<DeliveryReceiptListener>());
        services.AddForwarding(builder.Configuration);
        services.AddAlerts();

        // Cookies and antiforgery tokens are encrypted with keys every instance must share: keep them in the database.
        services.AddDataProtection().SetApplicationName("Portal").PersistKeysToDbContext<Portal.Data.PortalDbContext>()
            .ProtectKeysWith(KeyProtection.Required(builder.Configuration, builder.Environment));
        var sessionPolicy = SessionPolicy.Read(builder.Configuration);
        services.AddSingleton(sessionPolicy);
        services.AddSingleton<SessionStore>();
        services.AddSingleton<Portal.Data.Database.SessionExpiryLock>();
        services.AddSingleton<SessionExpiry>().AddHostedService(sp => sp.GetRequiredService<SessionExpiry>());
        services.AddSingleton<SessionCookieEvents>();
        var authentication = services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(o =>
        {
            o.EventsType = typeof(SessionCookieEvents);
            o.LoginPath = "/signin";
            o.AccessDeniedPath = "/denied";
            o.Cookie.Name = "portal.session";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            // The server ends idle and old sessions (SessionPolicy). The cookie lasts a little longer than the longest
            // session, so the server's check is the one that ends it and the sign-in page can say why.
            o.SlidingExpiration = false;
            o.ExpireTimeSpan = sessionPolicy.MaxLifetime + TimeSpan.FromHours(1);
        });
        // The organisation's OpenID Connect provider, on ASP.NET Core's handler (Auth/OidcSignIn).
        if (settings.Oidc) authentication.AddPortalOidc(builder.Configuration);
        services.AddAuthorization();
        // A signed-in person refused a page or endpoint for want of a role is recorded (AccessRefused, or a denied
        // AuditLogViewed / AuditExported for the audit log's own).
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, Portal.App.Audit.AccessRefusals>();
        services.AddCascadingAuthenticationState();
        services.AddProblemDetails();
        services.AddExceptionHandler<AuditUnavailableHandler>();
        services.AddExceptionHandler<DatabaseUnavailableHandler>();
        services.AddExceptionHandler<BadRequestHandler>();
        services.AddAntiforgery();

        var trusted = new TrustedNetworks(builder.Configuration);
        services.AddSingleton(trusted);
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            // Client address and scheme are taken from X-Forwarded-* only when the request comes from a configured proxy
            // (ForwardedHeaders:KnownProxies / KnownNetworks); none by default, not even loopback: otherwise any local
            // process could set the address the audit records. The Host header is never taken from X-Forwarded-Host;
            // AllowedHosts (host filtering) keeps other Host values out of redirects.
            // With both lists empty the middleware would believe everyone: with no proxy configured it is off.
            o.ForwardedHeaders = trusted.Proxies.Count == 0 ? ForwardedHeaders.None : ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            o.KnownIPNetworks.Clear();
            o.KnownProxies.Clear();
            foreach (var network in trusted.Proxies) o.KnownIPNetworks.Add(network);
        });

        services.AddRazorComponents().AddInteractiveServerComponents();
        // After the framework's own: open circuits re-check their session (ended sessions lose access).
        services.AddScoped<Microsoft.AspNetCore.Components.Authorization.AuthenticationStateProvider, SessionRevalidatingAuthenticationStateProvider>();
        MudBlazor.Services.ServiceCollectionExtensions.AddMudServices(services);

        var app = builder.Build();
        app.Services.GetRequiredService<PrometheusExporter>(); // listening from the start
        // Free a download slot as soon as nginx reports the transfer finished.
        var receipts = app.Services.GetRequiredService<DeliveryReceiptListener>();
        var downloadSlots = app.Services.GetRequiredService<DownloadSlots>();
        receipts.ReceiptStored += r => downloadSlots.ReleaseByAuditEvent(r.AuditEventId);
        ConfigurePipeline(app, settings);
        return app;
    }

    /// <summary>The signer of the chain's head (a key outside the database) and the anchors its heads also go to.</summary>
    private static void AddAuditSigning(WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var config = builder.Configuration;
        services.Configure<AuditSigningOptions>(config.GetSection("Audit"));
        services.AddSingleton<AuditSigningKeys>();
        var options = config.GetSection("Audit").Get<AuditSigningOptions>() ?? new AuditSigningOptions();
        var anchorFile = options.AnchorFile;
        if (string.IsNullOrWhiteSpace(anchorFile) && builder.Environment.IsDevelopment())
            anchorFile = Path.Combine(builder.Environment.ContentRootPath, "App_Data", "audit-heads.jsonl");
        if (!string.IsNullOrWhiteSpace(anchorFile))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(anchorFile))!);
            services.AddSingleton(new AuditAnchorFile(anchorFile));
            services.AddSingleton<IAuditHeadAnchor>(sp => sp.GetRequiredService<AuditAnchorFile>());
        }
        if (!string.IsNullOrWhiteSpace(options.AnchorSyslog))
            services.AddSingleton<IAuditHeadAnchor>(new AuditSyslogAnchor(options.AnchorSyslog));
        if (!string.IsNullOrWhiteSpace(options.AnchorBucket))
            services.AddSingleton<IAuditHeadAnchor>(_ => new AuditBucketAnchor(
                config.GetSection(Portal.App.Documents.Storage.S3StorageOptions.Section).Get<Portal.App.Documents.Storage.S3StorageOptions>() ?? new(),
                options.AnchorBucket, options.AnchorBucketRetentionDays));
    }

    private static void ConfigurePipeline(WebApplication app, PortalSettings settings)
    {
        TrustedNetworks.UseProxyMarker(app);
        app.UseForwardedHeaders();
        TrustedNetworks.UseMonitoringGuard(app);
        app.UseSecurityHeaders();
        // In every environment: an unhandled error answers a problem document, never a stack trace.
        app.UseExceptionHandler();
        app.UseStatusCodePages();

        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();

        app.MapStaticAssets();
        app.MapPortalHealthChecks();
        // Aggregate numbers only (no names, no ids). Expose it to your scraper's network, not the internet.
        app.MapGet("/metrics", (PrometheusExporter exporter) => Results.Text(exporter.Render(), "text/plain; version=0.0.4")).AllowAnonymous();
        app.MapAuthEndpoints(settings);
        app.MapDownloadEndpoints();
        app.MapUploadEndpoints();
        Portal.App.Permissions.PermissionEndpoints.MapPermissionEndpoints(app);
        Portal.App.Users.UserEndpoints.MapUserEndpoints(app);
        app.MapAuditExportEndpoints();
        Portal.App.Folders.FolderEndpoints.MapFolderEndpoints(app);
        app.MapRazorComponents<Components.App>().AddInteractiveServerRenderMode();

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
            app.Logger.LogInformation("Portal is ready at {Urls} (database {Provider}, delivery {DeliveryMode}{SignIn})",
                string.Join(", ", addresses ?? []), settings.DatabaseProvider, settings.DeliveryMode,
                settings.DevelopmentSignIn ? ", development sign-in" : "");
        });
    }
}
