using System.Security.Claims;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Portal.App.Folders;

namespace Portal.App.Components;

/// <summary>
/// Where the person on this circuit is (their address and browser), captured once when the circuit opens, for the
/// audit records of what they do on it. Components use this rather than IHttpContextAccessor: during interactive
/// rendering the accessor's context is whatever request the circuit's connection happens to run on (none at all
/// with some transports), not something a component may rely on.
/// </summary>
public sealed class ClientConnection
{
    /// <summary>A detached copy of the connection's request: address, user agent and trace id only. Null until captured.</summary>
    public HttpContext? Request { get; private set; }

    /// <summary>The signed-in person acting through this circuit, with where they are, as the operations expect it.</summary>
    public Caller CallerFor(ClaimsPrincipal user) => new(user, Request);

    internal void Capture(HttpContext? http)
    {
        if (http is null || Request is not null) return;
        var copy = new DefaultHttpContext { TraceIdentifier = http.TraceIdentifier };
        copy.Connection.RemoteIpAddress = http.Connection.RemoteIpAddress;
        copy.Request.Headers.UserAgent = http.Request.Headers.UserAgent;
        Request = copy;
    }
}

/// <summary>Fills the circuit's <see cref="ClientConnection"/> once, while the request that opened the circuit is at hand.</summary>
public sealed class ClientConnectionCircuitHandler(ClientConnection connection, IHttpContextAccessor accessor) : CircuitHandler
{
    public override Task OnCircuitOpenedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        connection.Capture(accessor.HttpContext);
        return Task.CompletedTask;
    }
}
