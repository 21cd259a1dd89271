using System.Net;
using Portal.Data.Audit;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Auth;

/// <summary>
/// Signing in with the real provider through nginx on a port of its own, as deployments run (docker compose maps
/// nginx to 8080): the redirect_uri the provider is given, and the way back, are nginx's address with its port.
/// </summary>
public sealed class NginxOidcSignInTests : IAsyncLifetime
{
    private OidcProvider provider = null!;
    private NginxStack? stack;

    public async Task InitializeAsync()
    {
        provider = await OidcProvider.CreateAsync();
        if (TestEnvironment.NginxPath is null && !TestEnvironment.IsCi) return; // skipped: see NginxFact
        stack = await NginxStack.StartAsync(provider.PortalSettings());
        await provider.StartAsync(stack.Nginx.Address); // the provider registers redirect URIs at nginx's address
    }

    public async Task DisposeAsync()
    {
        if (stack is not null) await stack.DisposeAsync();
        await provider.DisposeAsync();
    }

    [NginxFact]
    public async Task A_person_signs_in_through_nginx_and_comes_back_to_nginx_s_own_address()
    {
        var client = OidcLogin.NewClient(stack!.Nginx.Address);

        // The handler pushes the authorization request (PAR), so redirect_uri is not in the browser's URL: the provider,
        // which registered only nginx's address, checks it, and sends the person back there.
        var callback = await OidcLogin.ToCallbackAsync(client, "bob");
        Assert.Equal(new Uri(stack.Nginx.Address, "/signin-oidc").ToString(), callback.GetLeftPart(UriPartial.Path));
        var signedIn = await client.GetAsync(callback);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.True(OidcLogin.HasSession(client), "no session cookie after the callback");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/")).StatusCode);
        Assert.Contains(await stack.App.AuditEventsAsync(), e => e.Action == AuditAction.SignIn && e.Outcome == AuditOutcome.Allowed);
    }
}
