using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Portal.App.Documents;
using Portal.App.Documents.Storage;
using Portal.App.Folders;
using Portal.Data;
using Portal.Data.Audit;

namespace Portal.App.Hosting;

/// <summary>
/// The portal's settings come from configuration, not from a page, so "settings changed" is found at start-up: the
/// effective settings a compliance officer cares about (never a secret: no connection string, client secret, key or
/// password) are compared with what the audit log recorded last, and when they differ one SettingsChanged event is
/// appended, by the system, with the before/after of just the keys that changed. The first start records them all.
/// Runs after <see cref="DatabaseStartup"/> (hosted services start in order).
/// </summary>
public sealed class SettingsAudit(PortalSettings settings, IConfiguration config, IDbContextFactory<PortalDbContext> contexts,
    AuditLog audit, ILogger<SettingsAudit> log) : IHostedService
{
    public const string SystemSubject = "system";
    public const string SystemName = "System";

    public async Task StartAsync(CancellationToken ct)
    {
        try
        {
            await RecordIfChangedAsync(ct);
        }
        catch (Exception e) when (e is DbException or AuditWriteException or InvalidOperationException)
        {
            // Nothing runs unrecorded: settings that cannot be written down stop start-up, with one clear line.
            throw new StartupException($"Cannot record the portal's settings in the audit log: {e.GetBaseException().Message}", e);
        }
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;

    /// <summary>Appends a SettingsChanged event when the effective settings differ from the recorded ones; returns its id or null.</summary>
    public async Task<long?> RecordIfChangedAsync(CancellationToken ct = default)
    {
        var now = Effective(config, settings);
        await using var db = await contexts.CreateDbContextAsync(ct);
        // Compared and appended holding the chain lock: two instances starting at once record a change once.
        var recordedNow = await audit.CommitWithChangeAsync(db, async change =>
        {
            await change.LockChainAsync(ct);
            return Record(change, now, await RecordedAsync(db, ct));
        }, ct);
        return recordedNow?.Id; // stamped as it was committed
    }

    private AuditEvent? Record(AuditedChange change, SortedDictionary<string, string> now, Dictionary<string, string?> recorded)
    {
        var keys = now.Keys.Union(recorded.Keys).Where(k => now.GetValueOrDefault(k) != recorded.GetValueOrDefault(k)).Order(StringComparer.Ordinal).ToList();
        if (keys.Count == 0) return null;

        var first = recorded.Count == 0;
        var e = new AuditEvent
        {
            Action = AuditAction.SettingsChanged,
            Outcome = AuditOutcome.Allowed,
            ActorSubject = SystemSubject,
            ActorDisplayName = SystemName,
            Reason = Truncate(first ? $"Settings at first start: {string.Join(", ", keys)}" : $"Changed at start-up: {string.Join(", ", keys)}", 500),
            // Where: which instance started with these settings.
            CorrelationId = Truncate($"start-up of {Environment.MachineName} (process {Environment.ProcessId})", 100),
            Changes = AuditChanges.Of(
                first ? null : keys.ToDictionary(k => k, k => recorded.GetValueOrDefault(k)),
                keys.ToDictionary(k => k, k => now.GetValueOrDefault(k))),
        };
        change.Record(e);
        log.LogInformation("Settings recorded in the audit log ({Count} changed): {Keys}", keys.Count, string.Join(", ", keys));
        return e;
    }

    /// <summary>The settings as the SettingsChanged events so far leave them: each event's "after" applied in order.</summary>
    private static async Task<Dictionary<string, string?>> RecordedAsync(PortalDbContext db, CancellationToken ct)
    {
        var recorded = new Dictionary<string, string?>(StringComparer.Ordinal);
        var changes = db.AuditEvents.AsNoTracking().Where(e => e.Action == AuditAction.SettingsChanged).OrderBy(e => e.Id)
            .Select(e => e.Changes).AsAsyncEnumerable();
        await foreach (var json in changes.WithCancellation(ct))
        {
            if (json is null) continue;
            using var doc = JsonDocument.Parse(json);
            if (!doc.RootElement.TryGetProperty("after", out var after) || after.ValueKind != JsonValueKind.Object) continue;
            foreach (var p in after.EnumerateObject())
                if (p.Value.ValueKind == JsonValueKind.Null) recorded.Remove(p.Name);
                else recorded[p.Name] = p.Value.ToString();
        }
        return recorded;
    }

    /// <summary>
    /// The effective settings that matter to a compliance officer, as "Section:Key" → text. Never a secret: no
    /// connection string, client secret, S3 key, checkpoint key or password; URLs lose any user:password part.
    /// </summary>
    public static SortedDictionary<string, string> Effective(IConfiguration config, PortalSettings settings)
    {
        var s = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["Database:Provider"] = settings.DatabaseProvider.ToString(),
            ["Auth:SignIn"] = settings.Oidc ? "OpenID Connect" : settings.DevelopmentSignIn ? "Development sign-in" : "None",
        };

        var kind = config["Storage:Kind"] is { Length: > 0 } k && k.Equals("S3", StringComparison.OrdinalIgnoreCase) ? "S3" : "Local";
        s["Storage:Kind"] = kind;
        var delivery = config.GetSection(DeliveryOptions.Section).Get<DeliveryOptions>() ?? new DeliveryOptions();
        if (kind == "S3")
        {
            var s3 = config.GetSection(S3StorageOptions.Section).Get<S3StorageOptions>() ?? new S3StorageOptions();
            s["Storage:S3:Bucket"] = s3.Bucket ?? "";
            s["Storage:S3:ServiceUrl"] = WithoutUserInfo(s3.ServiceUrl) ?? $"AWS {s3.Region}";
            s["Storage:S3:KeyPrefix"] = s3.KeyPrefix ?? "";
            s["Delivery:S3InternalPrefix"] = delivery.S3InternalPrefix;
        }
        else s["Storage:Root"] = settings.StorageRoot;

        s["Delivery:Mode"] = settings.DeliveryMode.ToString();
        s["Delivery:InternalPrefix"] = delivery.InternalPrefix;
        s["Delivery:MaxConcurrentPerUser"] = Text(delivery.MaxConcurrentPerUser);
        s["Delivery:RateLimits:Default"] = Text(delivery.RateLimits.Default);
        foreach (var (section, limits) in new[] { ("Roles", delivery.RateLimits.Roles), ("Groups", delivery.RateLimits.Groups), ("Users", delivery.RateLimits.Users) })
            foreach (var (who, limit) in limits) s[$"Delivery:RateLimits:{section}:{who}"] = Text(limit);

        // Only whether, and the certificate's thumbprint: never the file's password.
        s["DataProtection:KeysAtRest"] = string.IsNullOrWhiteSpace(config[KeyProtection.PathKey]) ? "not encrypted"
            : KeyProtection.Describe(KeyProtection.Certificate(config));

        var sessions = Auth.SessionPolicy.Read(config);
        s["Sessions:IdleTimeout"] = sessions.IdleTimeout.ToString("c", CultureInfo.InvariantCulture);
        s["Sessions:MaxLifetime"] = sessions.MaxLifetime.ToString("c", CultureInfo.InvariantCulture);

        var uploads = config.GetSection(UploadOptions.Section).Get<UploadOptions>() ?? new UploadOptions();
        s["Uploads:MaxFileBytes"] = Text(uploads.MaxFileBytes);
        // The same defaults as apply-retention (AuditRetentionCommand).
        s["Audit:RetentionPeriod"] = new AuditRetentionPeriod(config.GetValue("Audit:RetentionYears", 6), config.GetValue("Audit:RetentionDays", 0)).ToString();

        if (settings.Oidc)
        {
            var oidc = config.GetSection(OidcOptions.Section).Get<OidcOptions>() ?? new OidcOptions();
            s["Oidc:Authority"] = WithoutUserInfo(oidc.Authority) ?? "";
            s["Oidc:ClientId"] = oidc.ClientId ?? "";
            s["Oidc:Scopes"] = oidc.Scopes;
            s["Oidc:GroupsClaim"] = oidc.GroupsClaim;
            s["Oidc:UnmappedUsers"] = oidc.UnmappedUsers;
            foreach (var (value, role) in oidc.RoleMap) s[$"Oidc:RoleMap:{value}"] = role;
        }
        return s;
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string? WithoutUserInfo(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0
            ? new UriBuilder(uri) { UserName = "", Password = "" }.Uri.ToString()
            : string.IsNullOrWhiteSpace(url) ? null : url;

    private static string? Truncate(string? value, int max) => value is null || value.Length <= max ? value : value[..max];
}
