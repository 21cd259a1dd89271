using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Portal.Data.Audit;

namespace Portal.App.Forwarding;

/// <summary>One destination. A forwarder calls it from one task at a time.</summary>
public interface IEventSink : IAsyncDisposable
{
    /// <summary>Sends the events (in id order); throws when the destination did not take them.</summary>
    Task SendAsync(IReadOnlyList<AuditEvent> events, CancellationToken ct);

    /// <summary>
    /// The highest of <paramref name="sentUpTo"/> the destination surely has: all of it for a webhook (it answered) or a
    /// file (flushed); for syslog over TCP, which never acknowledges, what was sent long enough ago on a connection still
    /// open. Throws when the connection turned out to be gone (what was not confirmed is sent again).
    /// </summary>
    long Confirmed(long sentUpTo);

    /// <summary>When the next call to <see cref="Confirmed"/> may confirm more (syslog), or null.</summary>
    TimeSpan? ConfirmDueIn { get; }

    /// <summary>Drops the connection after a failure; the next send starts afresh.</summary>
    Task ResetAsync();
}

internal static class SinkTrust
{
    /// <summary>
    /// Checks the receiver's certificate against the configured CA only (when one is set), else the system's CAs; the
    /// name must match either way.
    /// </summary>
    public static RemoteCertificateValidationCallback? For(X509Certificate2Collection? trustedCa)
    {
        if (trustedCa is null) return null;
        return (_, certificate, _, errors) =>
        {
            if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
                return false;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(trustedCa);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(new X509Certificate2(certificate));
        };
    }

    public static IEventSink Create(SinkSettings sink, ILoggerFactory logs) => sink.Kind switch
    {
        SinkKind.Syslog => new SyslogSink(sink),
        SinkKind.Webhook => new WebhookSink(sink),
        SinkKind.File => new JsonLinesFileSink(sink),
        _ => throw new ArgumentOutOfRangeException(nameof(sink)),
    };
}
