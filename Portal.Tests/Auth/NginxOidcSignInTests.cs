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

        var challenge = await client.GetAsync("/auth/login?returnUrl=%2F");
        var redirectUri = System.Web.HttpUtility.ParseQueryString(challenge.Headers.Location!.Query)["redirect_uri"];
        Assert.Equal(new Uri(stack.Nginx.Address, "/signin-oidc").ToString(), redirectUri);

        var callback = await OidcLogin.ToCallbackAsync(client, "bob");
        Assert.Equal(stack.Nginx.Address.Authority, callback.Authority);
        var signedIn = await client.GetAsync(callback);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.True(OidcLogin.HasSession(client), "no session cookie after the callback");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/")).StatusCode);
        Assert.Contains(await stack.App.AuditEventsAsync(), e => e.Action == AuditAction.SignIn && e.Outcome == AuditOutcome.Allowed);
    }
}
