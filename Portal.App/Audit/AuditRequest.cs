namespace Portal.App.Audit;

/// <summary>
/// What a filter panel or a report button asks the page to show: a filter, a report's title if any, and the names of the
/// person and document it picked (so the panel shows names, not ids, without asking the database again).
/// </summary>
public sealed record AuditRequest(AuditFilter Filter, string? Title = null, AuditPick? User = null, AuditPick? Document = null);
