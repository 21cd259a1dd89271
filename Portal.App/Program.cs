using Portal.App.Hosting;

try
{
    var app = PortalApp.Build(args);
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
