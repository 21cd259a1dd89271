namespace Portal.App.Auth.Oidc;

/// <summary>The OpenID provider cannot be used: unreachable, or its discovery document or JWKS is invalid.</summary>
public sealed class OidcException(string message, Exception? inner = null) : Exception(message, inner);
