using System.Runtime.CompilerServices;

namespace Portal.Tests.Infrastructure;

internal static class TestDefaults
{
    /// <summary>
    /// bunit's WaitFor* give up after 1 s by default. With the whole suite running in parallel on two cores, a
    /// render can wait longer than that for a thread; the conditions themselves are unchanged.
    /// </summary>
    [ModuleInitializer]
    internal static void Initialize() => Bunit.BunitContext.DefaultWaitTimeout = TimeSpan.FromSeconds(10);
}
