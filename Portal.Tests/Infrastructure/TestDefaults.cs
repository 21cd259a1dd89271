using System.Runtime.CompilerServices;

namespace Portal.Tests.Infrastructure;

internal static class TestDefaults
{
    /// <summary>
    /// bunit's WaitFor* give up after 1 s by default, and Playwright's expectations after 5 s. With the whole suite
    /// running in parallel on two cores, a render or a circuit's answer can wait longer than that for a thread (a
    /// Chromium test's access page took over 5 s in a full run); the conditions themselves are unchanged.
    /// </summary>
    [ModuleInitializer]
    internal static void Initialize()
    {
        Bunit.BunitContext.DefaultWaitTimeout = TimeSpan.FromSeconds(10);
        Microsoft.Playwright.Assertions.SetDefaultExpectTimeout(15_000);
    }
}
