using System.Diagnostics;
using System.Text;

namespace Portal.Tests.Infrastructure;

/// <summary>Portal.App as a separate process, exactly as an operator starts it, for start-up behaviour.</summary>
public static class AppProcess
{
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError)
    {
        public string AllOutput => StandardOutput + StandardError;
    }

    /// <summary>Runs the app with <paramref name="environment"/> until it exits (or kills it after <paramref name="timeout"/>).</summary>
    public static async Task<Result> RunUntilExitAsync(IDictionary<string, string> environment, TimeSpan timeout, params string[] arguments)
    {
        var appDll = Path.Combine(AppContext.BaseDirectory, "Portal.App.dll");
        var workDir = TestEnvironment.NewTempFolder("app-process");
        var start = new ProcessStartInfo("dotnet", [appDll, .. arguments])
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["ASPNETCORE_CONTENTROOT"] = workDir;
        foreach (var (key, value) in environment) start.Environment[key] = value;

        using var process = Process.Start(start)!;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"Portal.App did not exit within {timeout}. Output:\n{stdout}\n{stderr}");
        }
        process.WaitForExit(); // flush the output readers
        try { Directory.Delete(workDir, recursive: true); } catch (IOException) { }
        return new Result(process.ExitCode, stdout.ToString(), stderr.ToString());
    }
}
