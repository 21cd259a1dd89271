using System.Text.Json;
using System.Text.Json.Serialization;
using Portal.Data.Audit;

namespace Portal.App.Forwarding;

/// <summary>
/// An audit event as a SIEM receives it: every field of the log, with its id and chain hash (and the previous hash), so
/// the receiving side can spot a gap (an id missing) or a duplicate (an id twice) and check the chain.
/// </summary>
public static class ForwardedEvent
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    public static byte[] ToJsonUtf8(AuditEvent e) => JsonSerializer.SerializeToUtf8Bytes(e, Json);

    public static string ToJson(AuditEvent e) => JsonSerializer.Serialize(e, Json);
}
