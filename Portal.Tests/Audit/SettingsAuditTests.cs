using System.Data.Common;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Portal.App.Hosting;
using Portal.Data.Audit;
using Portal.Data.Database;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Audit;

/// <summary>
/// Settings come from configuration, so "settings changed" is what a start-up finds: real app starts on one database
/// (SQLite and PostgreSQL), with the same settings and then with changed ones.
/// </summary>
public abstract class SettingsAuditTests(DatabaseProvider provider)
{
    private const string ClientSecret = "client-secret-Zq8w2Lr5";
    private const string CheckpointKey = "Y2hlY2twb2ludC1rZXktdmFsdWUtMzItYnl0ZXMtbG9uZw==";

    /// <summary>What the operator configured: an OpenID Connect provider (with its secret) and a checkpoint key.</summary>
    private static Dictionary<string, string?> Configured(string storageRoot, params (string Key, string? Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Storage:Root"] = storageRoot,
            ["Oidc:Authority"] = "https://login.example.org/realms/portal",
            ["Oidc:ClientId"] = "portal",
            ["Oidc:ClientSecret"] = ClientSecret,
            ["Oidc:RoleMap:portal-admins"] = "Admin",
            ["Audit:CheckpointKey"] = CheckpointKey,
        };
        foreach (var (key, value) in more) settings[key] = value;
        return settings;
    }

    private static async Task<List<AuditEvent>> StartAsync(TestDatabase database, Dictionary<string, string?> settings)
    {
        await using var host = new PortalHost(database, settings: settings);
        return (await host.AuditEventsAsync()).Where(e => e.Action == AuditAction.SettingsChanged).ToList();
    }

    [Fact]
    public async Task The_first_start_records_the_settings_the_same_settings_record_nothing_and_a_change_records_just_what_changed()
    {
        await using var database = TestDatabase.Create(provider);
        var storage = TestEnvironment.NewTempFolder("storage");

        var first = Assert.Single(await StartAsync(database, Configured(storage)));
        Assert.Equal((AuditOutcome.Allowed, "system", "System", (Guid?)null), (first.Outcome, first.ActorSubject, first.ActorDisplayName, first.ActorUserId));
        Assert.StartsWith("Settings at first start: ", first.Reason);
        var initial = JsonDocument.Parse(first.Changes!).RootElement;
        Assert.Equal(JsonValueKind.Null, initial.GetProperty("before").ValueKind);
        var after = initial.GetProperty("after");
        Assert.Equal(provider.ToString(), after.GetProperty("Database:Provider").GetString());
        Assert.Equal(Path.GetFullPath(storage), after.GetProperty("Storage:Root").GetString());
        Assert.Equal("Direct", after.GetProperty("Delivery:Mode").GetString());
        Assert.Equal("https://login.example.org/realms/portal", after.GetProperty("Oidc:Authority").GetString());
        Assert.Equal("portal", after.GetProperty("Oidc:ClientId").GetString());
        Assert.Equal("Admin", after.GetProperty("Oidc:RoleMap:portal-admins").GetString());
        Assert.Equal("6 years", after.GetProperty("Audit:RetentionPeriod").GetString());
        Assert.Equal((2L * 1024 * 1024 * 1024).ToString(), after.GetProperty("Uploads:MaxFileBytes").GetString());

        // A restart with the same settings: nothing new.
        Assert.Single(await StartAsync(database, Configured(storage)));

        // A smaller upload limit and a bandwidth budget for a group: exactly one more event, naming just those two.
        var events = await StartAsync(database, Configured(storage, ("Uploads:MaxFileBytes", "1048576"), ("Delivery:RateLimits:Groups:staff", "500000")));
        Assert.Equal(2, events.Count);
        var change = events[1];
        Assert.Equal("Changed at start-up: Delivery:RateLimits:Groups:staff, Uploads:MaxFileBytes", change.Reason);
        Assert.Equal("""{"before":{"Delivery:RateLimits:Groups:staff":null,"Uploads:MaxFileBytes":"2147483648"},"after":{"Delivery:RateLimits:Groups:staff":"500000","Uploads:MaxFileBytes":"1048576"}}""",
            change.Changes);

        // Back to the old limit: the change back is recorded too, and then the settings are stable again.
        events = await StartAsync(database, Configured(storage, ("Delivery:RateLimits:Groups:staff", "500000")));
        Assert.Equal(3, events.Count);
        Assert.Equal("""{"before":{"Uploads:MaxFileBytes":"1048576"},"after":{"Uploads:MaxFileBytes":"2147483648"}}""", events[2].Changes);
        Assert.Equal(3, (await StartAsync(database, Configured(storage, ("Delivery:RateLimits:Groups:staff", "500000")))).Count);

        // Never a secret: not the client secret, the checkpoint key, the connection string or its password.
        var text = string.Join("\n", events.SelectMany(e => typeof(AuditEvent).GetProperties().Select(p => p.GetValue(e)?.ToString())));
        Assert.DoesNotContain(ClientSecret, text);
        Assert.DoesNotContain(CheckpointKey, text);
        Assert.DoesNotContain(database.ConnectionString, text);
        var connection = new DbConnectionStringBuilder { ConnectionString = database.ConnectionString };
        if (connection.TryGetValue("Password", out var password) && password is string { Length: > 0 } p) Assert.DoesNotContain(p, text);
    }
}

public sealed class SqliteSettingsAuditTests() : SettingsAuditTests(DatabaseProvider.Sqlite);
public sealed class PostgresSettingsAuditTests() : SettingsAuditTests(DatabaseProvider.PostgreSQL);

/// <summary>What <see cref="SettingsAudit.Effective"/> takes from S3 settings: where the bytes are, never the keys.</summary>
public class SettingsAuditEffectiveTests
{
    [Fact]
    public void S3_settings_name_the_bucket_and_endpoint_but_not_the_keys_or_a_password_in_the_url()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:Kind"] = "S3",
            ["Storage:S3:Bucket"] = "portal-documents",
            ["Storage:S3:ServiceUrl"] = "https://backup:url-password-77@ceph.example.org:7480",
            ["Storage:S3:AccessKey"] = "access-key-AKIA123",
            ["Storage:S3:SecretKey"] = "secret-key-wJalr",
        }).Build();
        var settings = new PortalSettings(DatabaseProvider.PostgreSQL, "Host=db;Username=portal;Password=db-password-42", true, "/unused",
            DeliveryMode.XAccel, false, null, true);

        var effective = SettingsAudit.Effective(config, settings);

        Assert.Equal("S3", effective["Storage:Kind"]);
        Assert.Equal("portal-documents", effective["Storage:S3:Bucket"]);
        Assert.Equal("https://ceph.example.org:7480/", effective["Storage:S3:ServiceUrl"]);
        Assert.Equal("XAccel", effective["Delivery:Mode"]);
        Assert.False(effective.ContainsKey("Storage:Root"));
        var text = string.Join("\n", effective.Select(kv => kv.Key + "=" + kv.Value));
        foreach (var secret in new[] { "url-password-77", "access-key-AKIA123", "secret-key-wJalr", "db-password-42", "Host=db" })
            Assert.DoesNotContain(secret, text);
    }
}
