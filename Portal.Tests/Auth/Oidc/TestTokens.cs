using System.Text;
using System.Text.Json.Nodes;

namespace Portal.Tests.Auth.Oidc;

/// <summary>Builds compact JWS strings the way a provider does.</summary>
public static class TestTokens
{
    public static string Part(JsonNode json) => TestKey.B64(Encoding.UTF8.GetBytes(json.ToJsonString()));

    public static string Part(string text) => TestKey.B64(Encoding.UTF8.GetBytes(text));

    /// <summary>A token signed by <paramref name="key"/> with <paramref name="alg"/>; the header names the key's kid
    /// unless <paramref name="editHeader"/> changes it.</summary>
    public static string Sign(TestKey key, string alg, JsonObject claims, Action<JsonObject>? editHeader = null)
    {
        var header = new JsonObject { ["alg"] = alg, ["typ"] = "JWT", ["kid"] = key.Kid };
        editHeader?.Invoke(header);
        return Sign(Part(header), Part(claims), data => key.Sign(alg, data));
    }

    /// <summary>"header.payload.signature" with the signature computed over the first two parts as given.</summary>
    public static string Sign(string headerPart, string payloadPart, Func<byte[], byte[]> sign)
    {
        var input = headerPart + "." + payloadPart;
        return input + "." + TestKey.B64(sign(Encoding.ASCII.GetBytes(input)));
    }

    public static string SignaturePart(string token) => token[(token.LastIndexOf('.') + 1)..];
}
