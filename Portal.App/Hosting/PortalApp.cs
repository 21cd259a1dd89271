using System.Net;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.HttpOverrides;
using Portal.App.Audit;
using Portal.App.Auth;
using Portal.App.Components;
using Portal.App.Demo;
using Portal.App.Documents;
using Portal.App.Downloads;
using Portal.Data.Audit;
using Portal.Data.Database;
using Portal.Data.Permissions;
using Radzen;

namespace Portal.App.Hosting;

/// <summary>Wires the portal: services from settings, then the request pipeline and endpoints.</summary>
public static class PortalApp
{
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
        services.AddPortalDatabase(settings.DatabaseProvider, settings.ConnectionString);
        services.AddSingleton(new DocumentStorage(settings.StorageRoot));
        services.AddSingleton<PermissionService>();
        services.AddSingleton<AuditLog>();
        services.AddSingleton<UserDirectory>();
        services.AddSingleton<DemoData>();
        services.AddSingleton<Portal.App.Folders.FolderCatalog>();
        services.AddSingleton<AuditQueries>();
        services.AddHttpContextAccessor();
        services.AddHostedService<DatabaseStartup>();
        services.AddSingleton<DownloadSlots>();
        services.AddSingleton<DownloadHandler>();
        services.AddSingleton<DeliveryReceiptListener>();
        services.AddHostedService(sp => sp.GetRequiredService<DeliveryReceiptListener>());

        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(o =>
        {
            o.LoginPath = "/signin";
            o.AccessDeniedPath = "/signin";
            o.Cookie.Name = "portal.session";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.SlidingExpiration = true;
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
        });
        services.AddAuthorization();
        services.AddCascadingAuthenticationState();
        services.AddProblemDetails();
        services.AddExceptionHandler<AuditUnavailableHandler>();
        services.AddAntiforgery();

        services.Configure<ForwardedHeadersOptions>(o =>
        {
            // Client address and scheme are taken from X-Forwarded-* only when the request comes from a trusted
            // proxy: loopback by default, or the addresses in ForwardedHeaders:KnownProxies.
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            foreach (var proxy in (builder.Configuration["ForwardedHeaders:KnownProxies"] ?? "")
                         .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                o.KnownProxies.Add(IPAddress.Parse(proxy));
        });

        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddRadzenComponents();

        var app = builder.Build();
        // Free a download slot as soon as nginx reports the transfer finished.
        var receipts = app.Services.GetRequiredService<DeliveryReceiptListener>();
        var downloadSlots = app.Services.GetRequiredService<DownloadSlots>();
        receipts.ReceiptStored += r => downloadSlots.ReleaseByAuditEvent(r.AuditEventId);
        ConfigurePipeline(app, settings);
        return app;
    }

    private static void ConfigurePipeline(WebApplication app, PortalSettings settings)
    {
        app.UseForwardedHeaders();
        // In every environment: an unhandled error answers a problem document, never a stack trace.
        app.UseExceptionHandler();
        app.UseStatusCodePages();

        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();

        app.MapStaticAssets();
        app.MapAuthEndpoints(settings.DevelopmentSignIn);
        app.MapDownloadEndpoints();
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
