using Portal.Data.Audit;

namespace Portal.App.Forwarding;

/// <summary>
/// Appends one JSON line per event and flushes it to disk before the cursor moves. When the file has reached
/// MaxFileBytes it becomes "name.1" (and .1 becomes .2 …, keeping KeepFiles) and a new file starts. After a crash the
/// events since the cursor are written again (a repeat, never a gap); a line cut short by the crash is ended first.
/// </summary>
public sealed class JsonLinesFileSink(SinkSettings sink) : IEventSink
{
    private readonly string _path = Path.GetFullPath(sink.Options.Path!);
    private FileStream? _file;

    public async Task SendAsync(IReadOnlyList<AuditEvent> events, CancellationToken ct)
    {
        if (events.Count == 0) return;
        var file = Open();
        if (file.Length >= sink.Options.MaxFileBytes)
        {
            await ResetAsync();
            Rotate();
            file = Open();
        }
        using var lines = new MemoryStream();
        foreach (var e in events)
        {
            lines.Write(ForwardedEvent.ToJsonUtf8(e));
            lines.WriteByte((byte)'\n');
        }
        await file.WriteAsync(lines.GetBuffer().AsMemory(0, (int)lines.Length), ct);
        file.Flush(flushToDisk: true);
    }

    private FileStream Open()
    {
        if (_file is not null) return _file;
        var file = new FileStream(_path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        if (file.Length > 0)
        {
            file.Seek(-1, SeekOrigin.End);
            var last = file.ReadByte();
            file.Seek(0, SeekOrigin.End);
            if (last != '\n') file.WriteByte((byte)'\n'); // a line cut short by a crash
        }
        return _file = file;
    }

    private void Rotate()
    {
        var keep = sink.Options.KeepFiles;
        File.Delete($"{_path}.{keep}");
        for (var n = keep - 1; n >= 1; n--)
            if (File.Exists($"{_path}.{n}")) File.Move($"{_path}.{n}", $"{_path}.{n + 1}", overwrite: true);
        File.Move(_path, $"{_path}.1", overwrite: true);
    }

    public long Confirmed(long sentUpTo) => sentUpTo;
    public TimeSpan? ConfirmDueIn => null;

    public async Task ResetAsync()
    {
        if (_file is not null) await _file.DisposeAsync();
        _file = null;
    }

    public async ValueTask DisposeAsync() => await ResetAsync();
}
