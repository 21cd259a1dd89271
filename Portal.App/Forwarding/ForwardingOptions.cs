using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Portal.App.Hosting;
using Portal.Data.Audit;

namespace Portal.App.Forwarding;

public enum SinkKind
{
    /// <summary>RFC 5424 over TCP (TLS when <see cref="SinkOptions.Tls"/>), RFC 6587 octet-counting framing.</summary>
    Syslog,
    /// <summary>HTTPS POST of JSON batches, signed with HMAC-SHA256.</summary>
    Webhook,
    /// <summary>JSON Lines appended to a file that rotates by size.</summary>
    File,
}

/// <summary>"Forwarding:Sinks:&lt;name&gt;": one destination for the audit events.</summary>
public sealed class SinkOptions
{
    public string Kind { get; set; } = "";
    /// <summary>Syslog: host:port of the receiver.</summary>
    public string? Address { get; set; }
    /// <summary>Syslog: TLS on the connection.</summary>
    public bool Tls { get; set; }
    /// <summary>A PEM file of the CA to trust for the receiver's certificate (syslog TLS, webhook); empty: the system's CAs.</summary>
    public string? CaCertificate { get; set; }
    /// <summary>The name the receiver's certificate must carry; empty: the host of Address or Url.</summary>
    public string? ServerName { get; set; }
    /// <summary>Webhook: the https URL.</summary>
    public string? Url { get; set; }
    /// <summary>Webhook: the HMAC-SHA256 key (at least 16 characters). Never logged, never audited.</summary>
    public string? Secret { get; set; }
    /// <summary>File: the JSON Lines file; rotated to .1, .2… when it reaches MaxFileBytes.</summary>
    public string? Path { get; set; }
    public long MaxFileBytes { get; set; } = 100L * 1024 * 1024;
    public int KeepFiles { get; set; } = 10;
    /// <summary>Syslog: an event counts as delivered once the connection stayed open this long after it was sent.</summary>
    public double SettleSeconds { get; set; } = 2;
}

/// <summary>"Forwarding": where committed audit events are sent, checked at start.</summary>
public sealed class ForwardingOptions
{
    public const string Section = "Forwarding";
    /// <summary>Comma-separated action names to send (DocumentDownloaded,AlertRaised…); empty: every action.</summary>
    public string? Actions { get; set; }
    public int BatchSize { get; set; } = 100;
    /// <summary>How long an instance holds a sink before another may take it over (kill -9, a lost network).</summary>
    public int LeaseSeconds { get; set; } = 15;
    /// <summary>Longest wait between retries of a failing sink (the backoff doubles from 1 s up to this).</summary>
    public int MaxBackoffSeconds { get; set; } = 60;
    public Dictionary<string, SinkOptions> Sinks { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>A sink as checked at start: everything a forwarder needs, parsed.</summary>
public sealed record SinkSettings(string Name, SinkKind Kind, SinkOptions Options, DnsEndPoint? Address, Uri? Url,
    X509Certificate2Collection? TrustedCa)
{
    public string CursorName => "sink:" + Name;
}

/// <summary>The checked forwarding settings.</summary>
public sealed partial record ForwardingSettings(IReadOnlySet<AuditAction>? Actions, int BatchSize, TimeSpan Lease, TimeSpan MaxBackoff,
    IReadOnlyList<SinkSettings> Sinks)
{
    public bool Sends(AuditAction action) => Actions is null || Actions.Contains(action);

    /// <summary>Reads and checks "Forwarding"; a bad setting is a <see cref="StartupException"/> naming the key.</summary>
    public static ForwardingSettings Read(IConfiguration config)
    {
        var section = config.GetSection(ForwardingOptions.Section);
        ForwardingOptions o;
        try { o = section.Get<ForwardingOptions>() ?? new ForwardingOptions(); }
        catch (InvalidOperationException e) { throw new StartupException($"Forwarding: {e.Message}"); }

        HashSet<AuditAction>? actions = null;
        if (!string.IsNullOrWhiteSpace(o.Actions))
        {
            actions = [];
            foreach (var name in o.Actions.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (Enum.TryParse<AuditAction>(name, ignoreCase: false, out var a) && Enum.IsDefined(a)) actions.Add(a);
                else throw new StartupException($"Forwarding:Actions names '{name}', which is not an audit action (for example DocumentDownloaded, AlertRaised).");
        }
        if (o.BatchSize is < 1 or > 5000) throw new StartupException($"Forwarding:BatchSize is {o.BatchSize}; use 1 to 5000.");
        if (o.LeaseSeconds is < 2 or > 3600) throw new StartupException($"Forwarding:LeaseSeconds is {o.LeaseSeconds}; use 2 to 3600.");
        if (o.MaxBackoffSeconds is < 1 or > 3600) throw new StartupException($"Forwarding:MaxBackoffSeconds is {o.MaxBackoffSeconds}; use 1 to 3600.");

        var sinks = new List<SinkSettings>();
        foreach (var (name, s) in o.Sinks.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var key = $"Forwarding:Sinks:{name}";
            if (!SinkName().IsMatch(name)) throw new StartupException($"{key}: a sink name is 1 to 60 letters, digits, '-' or '_'.");
            if (!Enum.TryParse<SinkKind>(s.Kind, ignoreCase: true, out var kind) || !Enum.IsDefined(kind))
                throw new StartupException($"{key}:Kind is '{s.Kind}'; use Syslog, Webhook or File.");
            var trusted = ReadCa(key, s.CaCertificate);
            DnsEndPoint? address = null;
            Uri? url = null;
            switch (kind)
            {
                case SinkKind.Syslog:
                    address = ParseHostPort(s.Address) ?? throw new StartupException($"{key}:Address '{s.Address}' is not host:port (for example siem.example.org:6514).");
                    if (s.SettleSeconds is < 0 or > 60) throw new StartupException($"{key}:SettleSeconds is {s.SettleSeconds}; use 0 to 60.");
                    break;
                case SinkKind.Webhook:
                    if (!Uri.TryCreate(s.Url, UriKind.Absolute, out url) || url.Scheme is not ("https" or "http"))
                        throw new StartupException($"{key}:Url '{s.Url}' is not an https URL.");
                    if (url.Scheme == "http" && !url.IsLoopback) throw new StartupException($"{key}:Url must use https (plain http on loopback only).");
                    if (string.IsNullOrEmpty(s.Secret) || s.Secret.Length < 16)
                        throw new StartupException($"{key}:Secret is missing or shorter than 16 characters (it signs every batch).");
                    break;
                case SinkKind.File:
                    if (string.IsNullOrWhiteSpace(s.Path)) throw new StartupException($"{key}:Path is required for a File sink.");
                    var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(s.Path));
                    if (folder is null || !Directory.Exists(folder)) throw new StartupException($"{key}:Path: the folder '{folder}' does not exist.");
                    if (s.MaxFileBytes < 1024) throw new StartupException($"{key}:MaxFileBytes is {s.MaxFileBytes}; use at least 1024.");
                    if (s.KeepFiles is < 1 or > 1000) throw new StartupException($"{key}:KeepFiles is {s.KeepFiles}; use 1 to 1000.");
                    break;
            }
            sinks.Add(new SinkSettings(name, kind, s, address, url, trusted));
        }
        return new ForwardingSettings(actions, o.BatchSize, TimeSpan.FromSeconds(o.LeaseSeconds), TimeSpan.FromSeconds(o.MaxBackoffSeconds), sinks);
    }

    private static X509Certificate2Collection? ReadCa(string key, string? path)
    {
        if (string.IsNullOrWhiteSpace(path)) return null;
        if (!File.Exists(path)) throw new StartupException($"{key}:CaCertificate '{path}' does not exist.");
        var ca = new X509Certificate2Collection();
        try { ca.ImportFromPemFile(path); }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            throw new StartupException($"{key}:CaCertificate '{path}' is not a PEM certificate: {e.Message}");
        }
        if (ca.Count == 0) throw new StartupException($"{key}:CaCertificate '{path}' holds no certificate.");
        return ca;
    }

    private static DnsEndPoint? ParseHostPort(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text[(colon + 1)..], out var port) || port is < 1 or > 65535) return null;
        var host = text[..colon].Trim('[', ']');
        return host.Length == 0 ? null : new DnsEndPoint(host, port);
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,60}$")]
    private static partial Regex SinkName();
}
