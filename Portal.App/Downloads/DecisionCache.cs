using System.Collections.Concurrent;
using Portal.Data.Downloads;
using Portal.Data.Permissions;

namespace Portal.App.Downloads;

/// <summary>
/// What a download decision read (the live document, the asker's rights on its folder), kept for the next download of
/// the same document by the same person: the decision's read was half the portal's and the database's CPU per
/// download. Safe because it is never trusted on its own. Each entry carries the access version it was read at; a
/// decision taken on it commits its audit event only if that is still the database's version in the audit batch's
/// transaction (<see cref="Portal.Data.Audit.AuditLog"/>), and every change to documents, folders, permissions or group
/// memberships raises that version (triggers), whoever makes it: this instance, another, or someone in the database.
/// Otherwise the decision is taken again from the database, and nothing was recorded or served on the old facts.
/// </summary>
public sealed class DecisionCache(AccessVersionWatch versions)
{
    /// <summary>Enough for the documents a busy hour's people download again (a few MB); past it the cache starts over.</summary>
    internal const int MaxEntries = 20_000;

    private readonly ConcurrentDictionary<(Guid Document, Actor Actor), DocumentAccess> _entries = new();

    /// <summary>The facts last read for this document and person, if no newer access version has been seen since.</summary>
    public DocumentAccess? Find(Guid documentId, Actor actor)
    {
        if (!_entries.TryGetValue((documentId, actor), out var found)) return null;
        if (found.AccessVersion == versions.Latest) return found;
        _entries.TryRemove(new KeyValuePair<(Guid, Actor), DocumentAccess>((documentId, actor), found));
        return null;
    }

    /// <summary>Keeps facts just read from the database.</summary>
    public void Keep(Guid documentId, Actor actor, DocumentAccess found)
    {
        versions.Saw(found.AccessVersion);
        if (_entries.Count >= MaxEntries) _entries.Clear();
        _entries[(documentId, actor)] = found;
    }

    /// <summary>Drops what was kept for this document and person (it turned out to be out of date).</summary>
    public void Forget(Guid documentId, Actor actor) => _entries.TryRemove((documentId, actor), out _);
}
