using System.Text.Json;

namespace Portal.App.Auth.Oidc;

/// <summary>
/// The outcome of validating a token. <see cref="Claims"/> is the payload (a JSON object) on success, and
/// <c>default</c> (ValueKind Undefined) on any failure, so refused claims cannot be used by mistake.
/// <see cref="Detail"/> is one sentence for the audit log; it never contains the token or its signature.
/// </summary>
public sealed record TokenValidationResult(TokenFailure? Failure, string? Detail, JsonElement Claims)
{
    public bool Succeeded => Failure is null;

    internal static TokenValidationResult Fail(TokenFailure failure, string detail) => new(failure, detail, default);

    internal static TokenValidationResult Success(JsonElement claims) => new(null, null, claims);
}
