using System.Buffers.Text;

namespace Portal.App.Auth.Oidc;

/// <summary>Unpadded base64url as JWS requires (RFC 7515 §2).</summary>
internal static class Base64UrlStrict
{
    /// <summary>Decodes, refusing padding, whitespace and any other character that <see cref="Base64Url"/> would tolerate.</summary>
    public static bool TryDecode(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length % 4 == 1) return false;
        foreach (var c in text)
        {
            if (c is not ((>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_')) return false;
        }
        try
        {
            bytes = Base64Url.DecodeFromChars(text);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
