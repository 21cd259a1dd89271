using System.Globalization;
using Microsoft.AspNetCore.WebUtilities;
using Portal.Data.Audit;

namespace Portal.App.Audit;

/// <summary>
/// What the compliance officer is looking for. The same filter drives the grid, the reports and the export
/// (as a query string), so an export holds exactly the rows on screen.
/// </summary>
public sealed record AuditFilter
{
    /// <summary>From this time (inclusive, UTC).</summary>
    public DateTimeOffset? From { get; init; }
    /// <summary>Up to this time (exclusive, UTC).</summary>
    public DateTimeOffset? To { get; init; }
    public Guid? UserId { get; init; }
    public Guid? DocumentId { get; init; }
    /// <summary>Events on this folder and, with <see cref="IncludeSubfolders"/>, on every folder now below it.</summary>
    public Guid? FolderId { get; init; }
    public bool IncludeSubfolders { get; init; } = true;
    /// <summary>Any of these actions; empty for all.</summary>
    public IReadOnlyList<AuditAction> Actions { get; init; } = [];
    public AuditOutcome? Outcome { get; init; }
    public string? ClientIp { get; init; }

    /// <summary>Reading access to documents: what "who accessed" and "what did this user access" report.</summary>
    public static readonly IReadOnlyList<AuditAction> AccessActions =
        [AuditAction.DocumentDownloaded, AuditAction.DocumentViewed, AuditAction.FolderOpened];

    public string ToQueryString()
    {
        var q = new List<KeyValuePair<string, string?>>();
        if (From is { } f) q.Add(new("from", f.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)));
        if (To is { } t) q.Add(new("to", t.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)));
        if (UserId is { } u) q.Add(new("user", u.ToString()));
        if (DocumentId is { } d) q.Add(new("document", d.ToString()));
        if (FolderId is { } fo) { q.Add(new("folder", fo.ToString())); if (!IncludeSubfolders) q.Add(new("subfolders", "false")); }
        foreach (var a in Actions) q.Add(new("action", a.ToString()));
        if (Outcome is { } o) q.Add(new("outcome", o.ToString()));
        if (!string.IsNullOrWhiteSpace(ClientIp)) q.Add(new("ip", ClientIp.Trim()));
        return QueryString.Create(q).ToString();
    }

    /// <summary>Reads a filter from a query string; a value that does not parse is an error, never silently dropped.</summary>
    public static AuditFilter Parse(IQueryCollection query, out List<string> errors)
    {
        var problems = new List<string>();
        DateTimeOffset? Time(string key) => query[key].ToString() is { Length: > 0 } s
            ? DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var v) ? v : Bad<DateTimeOffset>(key, s)
            : null;
        Guid? Id(string key) => query[key].ToString() is { Length: > 0 } s ? Guid.TryParse(s, out var v) ? v : Bad<Guid>(key, s) : null;
        T? Bad<T>(string key, string value) where T : struct
        {
            problems.Add($"'{(value.Length > 60 ? value[..60] + "…" : value)}' is not a valid {key}.");
            return null;
        }

        var actions = new List<AuditAction>();
        foreach (var a in query["action"])
            if (Enum.TryParse<AuditAction>(a, ignoreCase: true, out var action) && Enum.IsDefined(action)) actions.Add(action);
            else problems.Add($"'{a}' is not an audit action.");
        AuditOutcome? outcome = null;
        if (query["outcome"].ToString() is { Length: > 0 } o)
        {
            if (Enum.TryParse<AuditOutcome>(o, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed)) outcome = parsed;
            else problems.Add($"'{o}' is not an outcome (Allowed or Denied).");
        }
        var ip = query["ip"].ToString().Trim();
        if (ip.Length > 45) { problems.Add("The IP address is too long."); ip = ""; }

        var filter = new AuditFilter
        {
            From = Time("from"), To = Time("to"), UserId = Id("user"), DocumentId = Id("document"), FolderId = Id("folder"),
            IncludeSubfolders = !string.Equals(query["subfolders"], "false", StringComparison.OrdinalIgnoreCase),
            Actions = actions, Outcome = outcome, ClientIp = ip.Length == 0 ? null : ip,
        };
        errors = problems;
        return filter;
    }

    public static AuditFilter Parse(string queryString, out List<string> errors) =>
        Parse(new QueryCollection(QueryHelpers.ParseQuery(queryString)), out errors);
}
