using System.Globalization;
using System.Text;

namespace Portal.Data.Documents;

/// <summary>Folds a name for ordering and search: lowercase, accents removed ("Équipe" sorts and matches as "equipe").</summary>
public static class NameSortKey
{
    public static string For(string name)
    {
        var decomposed = name.Normalize(NormalizationForm.FormD);
        var folded = new StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark) folded.Append(char.ToLowerInvariant(c));
        return folded.ToString().Normalize(NormalizationForm.FormC);
    }
}
