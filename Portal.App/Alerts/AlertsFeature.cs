namespace Portal.App.Alerts;

/// <summary>Alerts on unusual access: the evaluator over committed events, suspensions for the download decision, the operations the pages call.</summary>
public static class AlertsFeature
{
    public static IServiceCollection AddAlerts(this IServiceCollection services)
    {
        services.AddSingleton<DownloadSuspensions>().AddHostedService(sp => sp.GetRequiredService<DownloadSuspensions>());
        services.AddSingleton<AlertEvaluator>().AddHostedService(sp => sp.GetRequiredService<AlertEvaluator>());
        services.AddSingleton<AlertOperations>();
        return services;
    }
}
