using System.Text;

namespace Portal.App.Downloads;

/// <summary>
/// Builds Content-Disposition per RFC 6266: an ASCII-only quoted fallback plus filename*=UTF-8''… (RFC 8187)
/// carrying the exact name. Nothing of the name can end the header or add a parameter.
/// </summary>
public static class ContentDisposition
{
    private const int MaxFallbackLength = 150;

    public static string Attachment(string fileName) => Build("attachment", fileName);
    public static string Inline(string fileName) => Build("inline", fileName);

    private static string Build(string type, string fileName)
    {
        var name = CleanName(fileName);
        var fallback = AsciiFallback(name);
        var header = $"{type}; filename=\"{fallback}\"";
        return fallback == name ? header : $"{header}; filename*=UTF-8''{Rfc8187Encode(name)}";
    }

    /// <summary>Control characters and path separators become '_'; an empty name becomes "download".</summary>
    internal static string CleanName(string fileName)
    {
        var sb = new StringBuilder(fileName.Length);
        foreach (var c in fileName)
            sb.Append(char.IsControl(c) || c is '/' or '\\' ? '_' : c);
        var cleaned = sb.ToString().Trim();
        return cleaned.Length == 0 || cleaned.All(c => c == '.') ? "download" : cleaned;
    }

    /// <summary>Printable ASCII without quote, backslash or percent (some browsers decode %xx in the fallback).</summary>
    internal static string AsciiFallback(string name)
    {
        var sb = new StringBuilder(Math.Min(name.Length, MaxFallbackLength));
        foreach (var rune in name.EnumerateRunes())
        {
            if (sb.Length >= MaxFallbackLength) break;
            var v = rune.Value;
            sb.Append(v is >= 0x20 and < 0x7F && v != '"' && v != '\\' && v != '%' ? (char)v : '_');
        }
        return sb.ToString();
    }

    /// <summary>Percent-encodes UTF-8 bytes outside RFC 8187's attr-char set.</summary>
    internal static string Rfc8187Encode(string value)
    {
        var sb = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || "!#$&+-.^_`|~".Contains(c)) sb.Append(c);
            else sb.Append('%').Append(b.ToString("X2"));
        }
        return sb.ToString();
    }
}
