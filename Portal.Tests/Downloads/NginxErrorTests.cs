using Portal.App.Downloads;

namespace Portal.Tests.Downloads;

/// <summary>nginx's error messages from the S3 locations, as they arrive over syslog: kept, but never with a query string.</summary>
public sealed class NginxErrorTests
{
    private const string Presigned = "http://127.0.0.1:9000/portal/ab/cd/abcd?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=PORTALKEY%2F20261121%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261121T150000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=0123abcd";

    [Fact]
    public void An_error_keeps_its_words_and_loses_every_query_string()
    {
        var line = $"<11>Nov 21 15:00:00 portal_nginx: 2026/11/21 15:00:00 [error] 77#77: *9 connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: _, request: \"GET /d/5?x=secret HTTP/1.1\", upstream: \"{Presigned}\", host: \"portal\"";

        var message = DeliveryReceiptListener.NginxError(line);

        Assert.Equal("2026/11/21 15:00:00 [error] 77#77: *9 connect() failed (111: Connection refused) while connecting to upstream, " +
            "client: 127.0.0.1, server: _, request: \"GET /d/5?… HTTP/1.1\", upstream: \"http://127.0.0.1:9000/portal/ab/cd/abcd?…\", host: \"portal\"", message);
    }

    [Theory]
    [InlineData("<190>Nov 21 15:00:00 portal_receipt: {\"audit\":\"5\",\"status\":200}")]
    [InlineData("portal_nginx: but not where a syslog tag goes ...................................... portal_nginx: x")]
    [InlineData("")]
    public void Anything_else_is_not_an_nginx_error(string datagram) =>
        Assert.Null(DeliveryReceiptListener.NginxError(datagram));
}
