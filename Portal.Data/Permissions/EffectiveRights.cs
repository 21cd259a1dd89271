namespace Portal.Data.Permissions;

/// <summary>The grants that apply to one user on one folder of a path, and whether that folder inherits.</summary>
/// <param name="InheritsFromParent">False when the folder stops inheritance from the folders above it.</param>
/// <param name="Granted">The union of the rights granted on this folder to the user and to their groups.</param>
public readonly record struct FolderGrants(bool InheritsFromParent, Rights Granted);

/// <summary>The permission rule of the design, free of any database so it can be tested on its own.</summary>
public static class EffectiveRights
{
    /// <summary>
    /// Effective rights on the last folder of <paramref name="pathFromRoot"/>: the union of its own grants and
    /// those of its ancestors, walking up until a folder that stops inheritance (its own grants still count).
    /// </summary>
    public static Rights Compute(IReadOnlyList<FolderGrants> pathFromRoot)
    {
        var rights = Rights.None;
        for (var i = AppliesFrom(pathFromRoot, g => g.InheritsFromParent); i < pathFromRoot.Count; i++) rights |= pathFromRoot[i].Granted;
        return rights;
    }

    /// <summary>
    /// The index of the highest folder on <paramref name="pathFromRoot"/> whose grants still count for the last one:
    /// the nearest folder (from the bottom) that stops inheritance, or the root. The explanation uses it too, so
    /// "why" can never disagree with "whether".
    /// </summary>
    public static int AppliesFrom<T>(IReadOnlyList<T> pathFromRoot, Func<T, bool> inheritsFromParent)
    {
        for (var i = pathFromRoot.Count - 1; i > 0; i--)
            if (!inheritsFromParent(pathFromRoot[i])) return i;
        return 0;
    }
}
