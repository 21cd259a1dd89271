using System.Collections.Frozen;
using System.Text.RegularExpressions;
using Portal.Data.Audit;

namespace Portal.App.Audit;

/// <summary>
/// An action as a person reads it on the audit page ("Document downloaded", "Sign in failed"). Exports, filters in the
/// URL and the database keep the stable names (DocumentDownloaded), which scripts and auditors' tools match on.
/// </summary>
public static partial class AuditActionWords
{
    private static readonly FrozenDictionary<AuditAction, string> Words = Enum.GetValues<AuditAction>()
        .ToFrozenDictionary(a => a, a => SplitWords().Replace(a.ToString(), m => " " + m.Value.ToLowerInvariant()));

    public static string InWords(this AuditAction action) => Words[action];

    /// <summary>Every action, for a picker: the value it filters by and the words it shows, in the order people read them.</summary>
    public static IReadOnlyList<Choice> Choices { get; } =
        Words.OrderBy(w => w.Value, StringComparer.Ordinal).Select(w => new Choice(w.Key, w.Value)).ToList();

    public sealed record Choice(AuditAction Value, string Text);

    [GeneratedRegex("(?<!^)[A-Z]")]
    private static partial Regex SplitWords();
}
