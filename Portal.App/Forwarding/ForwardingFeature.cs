using Microsoft.EntityFrameworkCore;
using Portal.Data;

namespace Portal.App.Forwarding;

/// <summary>Audit forwarding to SIEM sinks: settings (checked at start), one forwarder per sink, the lag page's reads.</summary>
public static class ForwardingFeature
{
    public static IServiceCollection AddForwarding(this IServiceCollection services, IConfiguration config)
    {
        var settings = ForwardingSettings.Read(config); // a bad setting stops start-up here, with one line
        services.AddSingleton(settings);
        services.AddSingleton<CommittedEvents>();
        services.AddSingleton<ForwardingStatus>();
        foreach (var sink in settings.Sinks)
            services.AddSingleton<IHostedService>(sp => new SinkForwarder(sink, settings,
                sp.GetRequiredService<IDbContextFactory<PortalDbContext>>(), sp.GetRequiredService<CommittedEvents>(),
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>()));
        return services;
    }
}
