namespace Portal.App.Auth.Oidc;

/// <summary>The parts of the provider's discovery document (/.well-known/openid-configuration) the portal uses.</summary>
public sealed record OidcMetadata(string Issuer, string AuthorizationEndpoint, string TokenEndpoint,
    string? UserinfoEndpoint, string JwksUri, string? EndSessionEndpoint);
