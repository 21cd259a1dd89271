using Portal.App.Hosting;

try
{
    var app = PortalApp.Build(args.Where(a => a != StorageCheck.Command).ToArray());
    if (args.Contains(StorageCheck.Command))
    {
        // An operator's command, not the server: check the stored files against the database and exit.
        return await StorageCheck.RunAsync(app.Services, Console.Out);
    }
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
