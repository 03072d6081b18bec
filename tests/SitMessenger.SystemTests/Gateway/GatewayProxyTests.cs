using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using SitMessenger.SystemTests.Api;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests.Gateway;

[Collection(SystemCollection.Name)]
public sealed class GatewayProxyTests(SitMessengerAppFixture fixture)
{
    private readonly SitApiClient _client = new(fixture.Gateway);

    [Fact]
    public async Task An_authenticated_rest_call_passes_through_with_security_headers()
    {
        var me = (await _client.SharedUsersAsync())[0];
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/v1/users/me/", UriKind.Relative));
        request.Headers.Authorization = new("Bearer", me.Access);
        using var response = await fixture.Gateway.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(me.Username, body.GetProperty("username").GetString());
        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        Assert.Equal("DENY", Header(response, "X-Frame-Options"));
        Assert.Equal("default-src 'none'; frame-ancestors 'none'", Header(response, "Content-Security-Policy"));
        Assert.Equal("no-referrer", Header(response, "Referrer-Policy"));
    }

    [Fact]
    public async Task A_websocket_echo_passes_through_hubs()
    {
        var me = (await _client.SharedUsersAsync())[0];
        var gateway = fixture.App.GetEndpoint("gateway");
        var url = new Uri($"ws://{gateway.Host}:{gateway.Port}/hubs/echo?access_token={Uri.EscapeDataString(me.Access)}");
        using var socket = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await socket.ConnectAsync(url, timeout.Token);

        var text = "echo " + Guid.NewGuid();
        await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
        var buffer = new byte[1024];
        var received = await socket.ReceiveAsync(buffer, timeout.Token);
        Assert.Equal(text, Encoding.UTF8.GetString(buffer, 0, received.Count));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
    }

    [Fact]
    public async Task A_websocket_without_a_token_is_refused()
    {
        var gateway = fixture.App.GetEndpoint("gateway");
        using var socket = new ClientWebSocket();
        var error = await Assert.ThrowsAsync<WebSocketException>(() =>
            socket.ConnectAsync(new Uri($"ws://{gateway.Host}:{gateway.Port}/hubs/echo"), CancellationToken.None));
        Assert.Contains("401", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_over_the_gateway_limit_is_rejected_with_413_and_a_json_detail()
    {
        var me = (await _client.SharedUsersAsync())[0];
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/v1/chat/", UriKind.Relative))
        {
            Content = new StringContent("{\"owner\":\"" + new string('x', 300 * 1024) + "\"}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", me.Access);
        using var response = await fixture.Gateway.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Request body is too large.", body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task No_answer_names_the_web_server_neither_the_gateways_nor_the_apis()
    {
        using var viaGateway = await fixture.Gateway.GetAsync(new Uri("/api/v1/ping/?id=1", UriKind.Relative));
        using var direct = new HttpClient { BaseAddress = fixture.App.GetEndpoint("api") };
        using var fromApi = await direct.GetAsync(new Uri("/api/v1/ping/?id=1", UriKind.Relative));
        using var gatewayOwn = await fixture.Gateway.GetAsync(new Uri("/alive", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, viaGateway.StatusCode);
        Assert.Equal(HttpStatusCode.OK, fromApi.StatusCode);
        Assert.Empty(viaGateway.Headers.Server);
        Assert.Empty(fromApi.Headers.Server);
        Assert.Empty(gatewayOwn.Headers.Server);
    }

    [Fact]
    public async Task A_connect_request_is_refused_with_405_and_a_json_detail()
    {
        // Kestrel itself answers 400 to the authority form (CONNECT host:port); the origin form reached the proxy.
        const string target = "/api/v1/ping/?id=1";
        // HttpClient cannot send CONNECT to an origin; the request line is written by hand.
        var gateway = fixture.App.GetEndpoint("gateway");
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(gateway.Host, gateway.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT {target} HTTP/1.1\r\nHost: {gateway.Authority}\r\nConnection: close\r\n\r\n"));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var answer = await reader.ReadToEndAsync(timeout.Token);

        Assert.StartsWith("HTTP/1.1 405", answer, StringComparison.Ordinal);
        Assert.Contains("Content-Type: application/json", answer, StringComparison.OrdinalIgnoreCase);
        // The body is one chunk: the JSON between its braces.
        var json = answer[answer.IndexOf('{', StringComparison.Ordinal)..(answer.LastIndexOf('}') + 1)];
        Assert.Equal("Method \"CONNECT\" not allowed.", JsonDocument.Parse(json).RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task The_api_sees_the_client_address_and_scheme_set_by_the_gateway_not_by_the_client()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/v1/ping/request/", UriKind.Relative));
        // A client claiming to be someone else: the Gateway trusts no client's X-Forwarded-For.
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        request.Headers.Add("X-Forwarded-Proto", "https");
        using var response = await fixture.Gateway.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal("127.0.0.1", seen.GetProperty("client_address").GetString());
        Assert.Equal("http", seen.GetProperty("scheme").GetString());
        Assert.Equal($"localhost:{fixture.App.GetEndpoint("gateway").Port}", seen.GetProperty("host").GetString());
    }

    [Fact]
    public async Task Requests_are_spread_over_the_api_replicas()
    {
        var instances = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 40 && instances.Count < 2; i++)
        {
            var seen = await fixture.Gateway.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/ping/request/", UriKind.Relative));
            instances.Add(seen.GetProperty("instance").GetString()!);
        }

        Assert.Equal(2, instances.Count);
    }

    [Fact]
    public async Task Too_many_login_calls_answer_429_with_retry_after_and_recover()
    {
        // The fixture allows 60 auth calls per 10 s per address: exhaust them with cheap token checks.
        HttpResponseMessage? throttled = null;
        for (var i = 0; i < 200 && throttled is null; i++)
        {
            var response = await fixture.Gateway.PostAsJsonAsync(new Uri("/api/auth/jwt/verify/", UriKind.Relative), new { token = "not-a-token" });
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                throttled = response;
            }
            else
            {
                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
                response.Dispose();
            }
        }

        Assert.NotNull(throttled);
        using (throttled)
        {
            var retryAfter = int.Parse(Header(throttled, "Retry-After")!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(retryAfter, 1, 10);
            var body = await throttled.Content.ReadFromJsonAsync<JsonElement>();
            Assert.StartsWith("Request was throttled.", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // Other routes are not held back by the login limit.
        using (var ping = await fixture.Gateway.GetAsync(new Uri("/api/v1/ping/?id=1", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
        }

        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            using var again = await fixture.Gateway.PostAsJsonAsync(new Uri("/api/auth/jwt/verify/", UriKind.Relative), new { token = "not-a-token" });
            if (again.StatusCode == HttpStatusCode.Unauthorized)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"still {(int)again.StatusCode} after the window");
            await Task.Delay(500);
        }
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(",", values)
            : null;
}
