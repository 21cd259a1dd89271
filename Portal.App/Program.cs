using Portal.App.Hosting;

try
{
    // An auditor's check of an export file: offline, no database or settings needed.
    if (args.Contains(Portal.App.Audit.ExportVerification.Command)) return await Portal.App.Audit.ExportVerification.RunAsync(args, Console.Out);
    string[] commands = [StorageCheck.Command, AuditVerification.Command, AuditRetentionCommand.Command];
    var app = PortalApp.Build(args.Where(a => !commands.Contains(a)).ToArray());
    // Operators' commands, not the server: check and exit.
    if (args.Contains(StorageCheck.Command)) return await StorageCheck.RunAsync(app.Services, Console.Out);
    if (args.Contains(AuditVerification.Command)) return await AuditVerification.RunAsync(app.Services, Console.Out);
    if (args.Contains(AuditRetentionCommand.Command)) return await AuditRetentionCommand.RunAsync(app.Services, Console.Out);
    await app.RunAsync();
    return 0;
}
catch (StartupException e)
{
    // A configuration or environment problem: say what is wrong and how to fix it, without a stack trace.
    Console.Error.WriteLine($"Portal cannot start: {e.Message}");
    return 1;
}

/// <summary>Entry point; public so integration tests can host it (WebApplicationFactory).</summary>
public partial class Program;
