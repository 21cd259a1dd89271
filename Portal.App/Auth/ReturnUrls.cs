using System.Text;

namespace Portal.App.Auth;

/// <summary>Where to go after signing in: a path on this site only, made safe to put in a Location header.</summary>
public static class ReturnUrls
{
    /// <summary>
    /// A local path ("/folders/1?x=2"): starts with one slash, not "//" or "/\" (which browsers read as another
    /// host), and no control character. Anything else is not followed.
    /// </summary>
    public static bool IsLocal(string? returnUrl) =>
        !string.IsNullOrEmpty(returnUrl) && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//") && !returnUrl.StartsWith("/\\")
        && !returnUrl.Any(char.IsControl);

    /// <summary>
    /// The local path percent-encoded where a header needs it ("/é?x=ü" → "/%C3%A9?x=%C3%BC"); what is already
    /// encoded stays as it is. Null when <paramref name="returnUrl"/> is not local.
    /// </summary>
    public static string? Encode(string? returnUrl)
    {
        if (!IsLocal(returnUrl)) return null;
        var hash = returnUrl!.IndexOf('#');
        if (hash >= 0) returnUrl = returnUrl[..hash]; // the fragment is the browser's, never sent back
        var encoded = new StringBuilder(returnUrl.Length);
        foreach (var b in Encoding.UTF8.GetBytes(returnUrl))
        {
            if (b >= 0x80 || b <= 0x20 || b is (byte)'"' or (byte)'<' or (byte)'>' or (byte)'\\' or (byte)'^' or (byte)'`' or (byte)'{' or (byte)'|' or (byte)'}')
                encoded.Append('%').Append(b.ToString("X2"));
            else
                encoded.Append((char)b);
        }
        return encoded.ToString();
    }

    /// <summary>The encoded local path, or the home page for anything else (no open redirect).</summary>
    public static string LocalOrHome(string? returnUrl) => Encode(returnUrl) ?? "/";
}
