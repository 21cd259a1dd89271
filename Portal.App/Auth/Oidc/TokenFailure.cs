namespace Portal.App.Auth.Oidc;

/// <summary>Why a token was refused; recorded in the audit log next to <see cref="TokenValidationResult.Detail"/>.</summary>
public enum TokenFailure
{
    /// <summary>Not a compact JWS (three base64url parts with a JSON header and payload), or a JWE.</summary>
    Malformed,
    /// <summary>An algorithm other than RS256, PS256, ES256 (none and HS* included); refused before any key lookup.</summary>
    UnsupportedAlgorithm,
    /// <summary>The provider publishes no key with the token's kid that can verify the token's algorithm.</summary>
    UnknownKey,
    BadSignature,
    WrongIssuer,
    WrongAudience,
    WrongAuthorizedParty,
    /// <summary>exp is missing (ID tokens), not a number, or in the past beyond the clock skew.</summary>
    Expired,
    /// <summary>iat is missing, not a number, or in the future beyond the clock skew (or nbf is).</summary>
    IssuedInFuture,
    WrongNonce,
    MissingSubject,
    NotALogoutToken,
}
