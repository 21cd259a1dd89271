using System.Text.Json;

namespace Portal.App.Audit;

/// <summary>
/// An event's <c>Changes</c> ({"before":{…},"after":{…}}) as rows a person compares at a glance: each field with its value
/// before and after, changed ones marked. The exact JSON stays in the event (and its exports); this is only how the
/// detail view shows it.
/// </summary>
public static class AuditChangeRows
{
    public sealed record Row(string Field, string Before, string After)
    {
        public bool Changed => Before != After;
    }

    /// <summary>The rows, fields in the order they first appear; none when the text is not a before/after object.</summary>
    public static IReadOnlyList<Row> Of(string? changes)
    {
        if (string.IsNullOrWhiteSpace(changes)) return [];
        try
        {
            using var json = JsonDocument.Parse(changes);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return [];
            var before = Fields(root, "before");
            var after = Fields(root, "after");
            if (before is null && after is null) return [];
            var fields = (before?.Keys ?? Enumerable.Empty<string>()).Union(after?.Keys ?? Enumerable.Empty<string>());
            return fields.Select(k => new Row(k, Show(before, k), Show(after, k))).ToList();
        }
        catch (JsonException)
        {
            return [];
        }
    }

    private const string Absent = "—";

    private static Dictionary<string, string>? Fields(JsonElement root, string side) =>
        root.TryGetProperty(side, out var part) && part.ValueKind == JsonValueKind.Object
            ? part.EnumerateObject().ToDictionary(p => p.Name, p => Text(p.Value))
            : null;

    private static string Show(Dictionary<string, string>? side, string field) => side?.GetValueOrDefault(field) ?? Absent;

    private static string Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Null => Absent,
        JsonValueKind.Array when value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String) =>
            value.GetArrayLength() == 0 ? "(none)" : string.Join(", ", value.EnumerateArray().Select(v => v.GetString())),
        _ => value.GetRawText(),
    };
}
