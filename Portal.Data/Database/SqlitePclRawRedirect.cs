namespace Portal.Data.Database;

// Feed workaround (see build/FeedWorkarounds.props): EF 10's Sqlite.Core asks for SQLitePCLRaw.core 2.1.x,
// only 2.0.6 restores here. Answer the load request with the 2.0.6 assembly; it must run before the
// first SqliteConnection, so it is a module initializer of the assembly that opens connections.
internal static class SqlitePclRawRedirect
{
#pragma warning disable CA2255 // a module initializer is the documented way to run before any SqliteConnection
    [System.Runtime.CompilerServices.ModuleInitializer]
    internal static void Init() =>
        System.Runtime.Loader.AssemblyLoadContext.Default.Resolving += (_, name) =>
            name.Name == "SQLitePCLRaw.core" ? typeof(SQLitePCL.raw).Assembly : null;
#pragma warning restore CA2255
}
