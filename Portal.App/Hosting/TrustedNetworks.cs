using System.Net;

namespace Portal.App.Hosting;

/// <summary>
/// Who the app trusts by network address, from settings only (nothing is trusted by default but the app's own host for
/// monitoring):
/// - proxies (ForwardedHeaders:KnownProxies, addresses; ForwardedHeaders:KnownNetworks, CIDR): only their
///   X-Forwarded-For/Proto is believed, and only they get X-Accel-Redirect and the S3 presigned URL (nginx);
/// - monitoring (Monitoring:AllowedNetworks, CIDR; default loopback): only they reach /metrics and /health/ready.
/// A connection without an IP address (a unix socket, or the in-process test server) counts as local: whoever reaches
/// the app's socket file has passed its file permissions.
/// </summary>
public sealed class TrustedNetworks
{
    private const string FromKnownProxyItem = "Portal.FromKnownProxy";
    public IReadOnlyList<System.Net.IPNetwork> Proxies { get; }
    public IReadOnlyList<System.Net.IPNetwork> Monitoring { get; }

    public TrustedNetworks(IConfiguration config)
    {
        var proxies = List(config["ForwardedHeaders:KnownProxies"]).Select(a => Single(IPAddress.Parse(a)))
            .Concat(List(config["ForwardedHeaders:KnownNetworks"]).Select(System.Net.IPNetwork.Parse));
        Proxies = proxies.ToList();
        var monitoring = config["Monitoring:AllowedNetworks"];
        Monitoring = (monitoring is null ? ["127.0.0.0/8", "::1/128"] : List(monitoring)).Select(System.Net.IPNetwork.Parse).ToList();
    }

    private static string[] List(string? value) => (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static System.Net.IPNetwork Single(IPAddress a) => new(a, a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);

    private static bool In(IReadOnlyList<System.Net.IPNetwork> networks, IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        return networks.Any(n => n.Contains(address));
    }

    public bool IsProxy(IPAddress? peer) => peer is null || In(Proxies, peer);
    public bool IsMonitoring(IPAddress? client) => client is null || In(Monitoring, client);

    /// <summary>Before UseForwardedHeaders rewrites the address: note whether the TCP peer itself is a configured proxy.</summary>
    public static IApplicationBuilder UseProxyMarker(IApplicationBuilder app)
    {
        var trusted = app.ApplicationServices.GetRequiredService<TrustedNetworks>();
        return app.Use((context, next) =>
        {
            context.Items[FromKnownProxyItem] = trusted.IsProxy(context.Connection.RemoteIpAddress);
            return next(context);
        });
    }

    /// <summary>The request came through a configured proxy (nginx): it may be answered with X-Accel-Redirect.</summary>
    public static bool FromKnownProxy(HttpContext context) => context.Items.TryGetValue(FromKnownProxyItem, out var v) && v is true;

    /// <summary>The monitoring endpoints: reachable only from Monitoring:AllowedNetworks.</summary>
    public static readonly string[] MonitoringPaths = ["/metrics", "/health/ready"];

    /// <summary>
    /// After UseForwardedHeaders (so the address is the client's as a configured proxy reported it): /metrics and
    /// /health/ready answer 404 to anyone outside Monitoring:AllowedNetworks, as if they were not there.
    /// </summary>
    public static IApplicationBuilder UseMonitoringGuard(IApplicationBuilder app)
    {
        var trusted = app.ApplicationServices.GetRequiredService<TrustedNetworks>();
        return app.Use((context, next) =>
        {
            if (MonitoringPaths.Any(p => context.Request.Path.Equals(p, StringComparison.OrdinalIgnoreCase))
                && !trusted.IsMonitoring(context.Connection.RemoteIpAddress))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }
            return next(context);
        });
    }
}
