using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Portal.Data.Audit;

namespace Portal.App.Hosting;

/// <summary>The portal's own measurements (System.Diagnostics.Metrics), exported by <see cref="PrometheusExporter"/>.</summary>
public sealed class PortalMetrics : IDisposable
{
    public const string MeterName = "Portal";
    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _downloads;
    private readonly Histogram<int> _auditBatchSize;
    private readonly Histogram<double> _auditCommitSeconds;
    private readonly UpDownCounter<long> _circuits;

    public PortalMetrics(AuditLog audit)
    {
        _downloads = _meter.CreateCounter<long>("portal_downloads_total", description: "Download and view requests, by outcome (allowed, denied, not_found, too_many).");
        _auditBatchSize = _meter.CreateHistogram<int>("portal_audit_batch_size", description: "Audit events committed together (group commit).");
        _auditCommitSeconds = _meter.CreateHistogram<double>("portal_audit_commit_seconds", description: "Time to commit one audit batch.");
        _circuits = _meter.CreateUpDownCounter<long>("portal_active_circuits", description: "Open Blazor circuits (people with a page open).");
        audit.BatchCommitted += (size, elapsed) =>
        {
            _auditBatchSize.Record(size);
            _auditCommitSeconds.Record(elapsed.TotalSeconds);
        };
    }

    /// <summary>This app's meter: a process may host several apps (tests do), each exports only its own.</summary>
    public Meter Meter => _meter;

    public void Download(string outcome) => _downloads.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
    public void CircuitOpened() => _circuits.Add(1);
    public void CircuitClosed() => _circuits.Add(-1);
    public void Dispose() => _meter.Dispose();
}

/// <summary>Counts circuits as they open and close.</summary>
public sealed class CircuitMetricsHandler(PortalMetrics metrics) : CircuitHandler
{
    public override Task OnCircuitOpenedAsync(Circuit circuit, CancellationToken ct) { metrics.CircuitOpened(); return Task.CompletedTask; }
    public override Task OnCircuitClosedAsync(Circuit circuit, CancellationToken ct) { metrics.CircuitClosed(); return Task.CompletedTask; }
}

/// <summary>
/// Keeps running totals of the Portal meter's instruments and writes them in Prometheus text format at /metrics
/// (OpenTelemetry's Prometheus exporter exists only as a prerelease). Counters and up-down counters are sums per tag set;
/// histograms have fixed buckets.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    private static readonly double[] Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500];
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(string Name, string Labels), double> _sums = new();
    private readonly ConcurrentDictionary<(string Name, string Labels), Histogram> _histograms = new();
    private readonly ConcurrentDictionary<string, (string Kind, string? Help)> _instruments = new();

    private sealed class Histogram
    {
        public readonly long[] Counts = new long[Buckets.Length];
        public long Count;
        public double Sum;
    }

    public PrometheusExporter(PortalMetrics metrics)
    {
        // Start() also reports the instruments created before it, so listening after PortalMetrics exists is fine.
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (!ReferenceEquals(instrument.Meter, metrics.Meter)) return;
            var kind = instrument switch
            {
                Counter<long> => "counter",
                UpDownCounter<long> => "gauge",
                _ when instrument.GetType().Name.StartsWith("Histogram", StringComparison.Ordinal) => "histogram",
                _ => null,
            };
            if (kind is null) return;
            _instruments[instrument.Name] = (kind, instrument.Description);
            listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, value, tags, _) => Record(i, value, tags));
        _listener.SetMeasurementEventCallback<int>((i, value, tags, _) => Record(i, value, tags));
        _listener.SetMeasurementEventCallback<double>((i, value, tags, _) => Record(i, value, tags));
        _listener.Start();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var labels = Labels(tags);
        if (_instruments.TryGetValue(instrument.Name, out var info) && info.Kind == "histogram")
        {
            var h = _histograms.GetOrAdd((instrument.Name, labels), _ => new Histogram());
            lock (h)
            {
                h.Count++;
                h.Sum += value;
                for (var b = 0; b < Buckets.Length; b++) if (value <= Buckets[b]) h.Counts[b]++;
            }
        }
        else
        {
            _sums.AddOrUpdate((instrument.Name, labels), value, (_, old) => old + value);
        }
    }

    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0) return "";
        var parts = new List<string>();
        foreach (var tag in tags)
            parts.Add($"{tag.Key}=\"{Convert.ToString(tag.Value, CultureInfo.InvariantCulture)?.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n")}\"");
        return string.Join(',', parts.OrderBy(p => p, StringComparer.Ordinal));
    }

    public string Render()
    {
        var text = new StringBuilder();
        foreach (var (name, (kind, help)) in _instruments.OrderBy(i => i.Key, StringComparer.Ordinal))
        {
            if (help is not null) text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            text.Append("# TYPE ").Append(name).Append(' ').Append(kind).Append('\n');
            if (kind == "histogram")
            {
                foreach (var ((_, labels), h) in _histograms.Where(h => h.Key.Name == name))
                    lock (h)
                    {
                        for (var b = 0; b < Buckets.Length; b++)
                            text.Append(name).Append("_bucket{").Append(Join(labels, $"le=\"{Buckets[b].ToString(CultureInfo.InvariantCulture)}\"")).Append("} ").Append(h.Counts[b]).Append('\n');
                        text.Append(name).Append("_bucket{").Append(Join(labels, "le=\"+Inf\"")).Append("} ").Append(h.Count).Append('\n');
                        text.Append(name).Append("_sum").Append(Braces(labels)).Append(' ').Append(h.Sum.ToString(CultureInfo.InvariantCulture)).Append('\n');
                        text.Append(name).Append("_count").Append(Braces(labels)).Append(' ').Append(h.Count).Append('\n');
                    }
            }
            else
            {
                var series = _sums.Where(s => s.Key.Name == name).ToList();
                if (series.Count == 0) text.Append(name).Append(" 0\n");
                foreach (var ((_, labels), value) in series)
                    text.Append(name).Append(Braces(labels)).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }
        return text.ToString();
    }

    private static string Join(string labels, string extra) => labels.Length == 0 ? extra : labels + "," + extra;
    private static string Braces(string labels) => labels.Length == 0 ? "" : "{" + labels + "}";

    public void Dispose() => _listener.Dispose();
}
