namespace Portal.App.Hosting;

/// <summary>"Storage": where document bytes live.</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";
    /// <summary>Root folder of the content-addressed store. Empty: App_Data/storage under the app's folder.</summary>
    public string? Root { get; set; }
}

public enum DeliveryMode
{
    /// <summary>The app streams the file itself (the embedded default, no nginx).</summary>
    Direct,
    /// <summary>The app answers with X-Accel-Redirect and nginx sends the bytes.</summary>
    XAccel,
}

/// <summary>"Delivery": how an authorised download reaches the browser.</summary>
public sealed class DeliveryOptions
{
    public const string Section = "Delivery";
    public string Mode { get; set; } = nameof(DeliveryMode.Direct);
    /// <summary>The nginx location marked `internal` that serves the storage root.</summary>
    public string InternalPrefix { get; set; } = "/_protected/";
    /// <summary>The nginx location marked `internal` that fetches from S3 (Storage:Kind=S3).</summary>
    public string S3InternalPrefix { get; set; } = "/_protected_s3/";
    public string CacheControl { get; set; } = "private, no-store";
    /// <summary>Bandwidth budget per user, by subject, group or role (bytes per second, 0 = unlimited).</summary>
    public Portal.App.Downloads.RateLimitOptions RateLimits { get; set; } = new();
    /// <summary>Downloads one person may run at once (0 = no limit); beyond it: 429 with Retry-After.</summary>
    public int MaxConcurrentPerUser { get; set; }
    /// <summary>UDP address:port where nginx sends delivery receipts (syslog); empty: no receipts.</summary>
    public string? ReceiptListen { get; set; }
}

/// <summary>"Demo": sample folders, documents and users for trying the portal out.</summary>
public sealed class DemoOptions
{
    public const string Section = "Demo";
    /// <summary>Seed demo data when the database has no folders yet.</summary>
    public bool Seed { get; set; }
}

/// <summary>"Oidc": the organisation's OpenID Connect provider.</summary>
public sealed class OidcOptions
{
    public const string Section = "Oidc";
    /// <summary>The provider's issuer URL; its discovery document is at /.well-known/openid-configuration.</summary>
    public string? Authority { get; set; }
    public string? ClientId { get; set; }
    public string? ClientSecret { get; set; }
    public string Scopes { get; set; } = "openid profile email groups";
    /// <summary>The claim that lists the person's groups.</summary>
    public string GroupsClaim { get; set; } = "groups";
    /// <summary>Claim values (from the groups claim or a "roles" claim) that give a portal role: value → Admin, ComplianceOfficer or Staff.</summary>
    public Dictionary<string, string> RoleMap { get; set; } = new(StringComparer.Ordinal);
    /// <summary>What happens to a person none of whose claims maps to a role: Refuse (default) or Staff.</summary>
    public string UnmappedUsers { get; set; } = "Refuse";
    /// <summary>Also read the userinfo endpoint for claims the id_token lacks.</summary>
    public bool UseUserinfo { get; set; }
    /// <summary>Refuse a plain-http authority outside loopback (default). Off only for a local demo provider.</summary>
    public bool RequireHttps { get; set; } = true;
    /// <summary>
    /// Take the provider's email claim as verified even without email_verified (a provider that checks every
    /// address but does not say so). Off: a grant by e-mail finds only people whose e-mail the provider verified.
    /// </summary>
    public bool TrustEmail { get; set; }
}
