using Microsoft.AspNetCore.SignalR.Client;
using SitMessenger.SystemTests.Api;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests.RealTime;

/// <summary>The hub takes the token as SignalR clients send it (header or access_token query) and refuses every bad one.</summary>
[Collection(SystemCollection.Name)]
public sealed class RealTimeAuthTests(SitMessengerAppFixture fixture)
{
    private readonly SitApiClient _api = new(fixture.Gateway);

    [Fact]
    public async Task The_hub_accepts_a_token_in_the_header_or_the_query_through_the_gateway()
    {
        var user = (await RealTimeSetup.UsersAsync(_api))[0];
        foreach (var inQuery in new[] { false, true })
        {
            await using var client = await ChatHubClient.ConnectAsync(RealTimeSetup.Gateway(fixture), user.Access, inQuery);
            Assert.Equal(HubConnectionState.Connected, client.Connection.State);
        }
    }

    [Fact]
    public async Task A_client_that_negotiates_first_lands_on_the_replica_that_answered_the_negotiate()
    {
        // Without affinity about half of these would open their WebSocket on the other replica, which knows no such connection.
        var user = (await RealTimeSetup.UsersAsync(_api))[1];
        for (var i = 0; i < 12; i++)
        {
            await using var connection = new HubConnectionBuilder()
                .WithUrl(new Uri(RealTimeSetup.Gateway(fixture), "/hubs/chat"), options =>
                {
                    options.AccessTokenProvider = () => Task.FromResult<string?>(user.Access);
                    options.Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets;
                })
                .Build();
            using var timeout = new CancellationTokenSource(ChatHubClient.EventWait);
            await connection.StartAsync(timeout.Token);
            Assert.Equal(HubConnectionState.Connected, connection.State);
        }
    }

    [Fact]
    public async Task The_hub_refuses_missing_expired_and_forged_tokens()
    {
        var user = (await RealTimeSetup.UsersAsync(_api))[0];
        var key = HandMadeTokens.RealSigningKey(fixture.App.StateDirectory);
        var header = HandMadeTokens.Header(user.Access);
        var expiredClaims = HandMadeTokens.Copy(HandMadeTokens.Payload(user.Access));
        expiredClaims["iat"] = HandMadeTokens.UnixNow() - 7200;
        expiredClaims["nbf"] = HandMadeTokens.UnixNow() - 7200;
        expiredClaims["exp"] = HandMadeTokens.UnixNow() - 3600;
        var expired = HandMadeTokens.Encode(header, expiredClaims, key);
        var forged = HandMadeTokens.Encode(header, HandMadeTokens.Payload(user.Access), "not the server's key, not at all, but long enough"u8.ToArray());
        var unsigned = HandMadeTokens.Encode(new System.Text.Json.Nodes.JsonObject { ["alg"] = "none", ["typ"] = "JWT" }, HandMadeTokens.Payload(user.Access), null);

        // The control: the same claims signed with the real key pass.
        await using (var control = await ChatHubClient.ConnectAsync(RealTimeSetup.Gateway(fixture), HandMadeTokens.Encode(header, HandMadeTokens.Payload(user.Access), key)))
        {
            Assert.Equal(HubConnectionState.Connected, control.Connection.State);
        }

        foreach (var (name, token) in new (string, string?)[] { ("missing", null), ("expired", expired), ("forged", forged), ("alg none", unsigned) })
        {
            foreach (var inQuery in new[] { false, true })
            {
                await using var connection = ChatHubClient.Build(RealTimeSetup.Gateway(fixture), token, inQuery);
                using var timeout = new CancellationTokenSource(ChatHubClient.EventWait);
                var refused = await Assert.ThrowsAnyAsync<Exception>(() => connection.StartAsync(timeout.Token));
                Assert.True(refused.ToString().Contains("401", StringComparison.Ordinal), $"{name} token (in query: {inQuery}) refused with: {refused}");
                Assert.NotEqual(HubConnectionState.Connected, connection.State);
            }
        }
    }

    [Fact]
    public async Task The_openapi_document_describes_the_hub_its_methods_and_events_and_the_idempotency_key()
    {
        var schema = await _api.GetAsync("/api/schema/v1.json");
        ApiAssert.Status(System.Net.HttpStatusCode.OK, schema);
        var hub = schema.Body.GetProperty("paths").GetProperty("/hubs/chat").GetProperty("get").GetProperty("description").GetString()!;
        foreach (var name in new[] { "Send(", "Typing(", "MarkRead(", "CatchUp(", "- message {", "- typing {", "- read {", "- chat {" })
        {
            Assert.Contains(name, hub, StringComparison.Ordinal);
        }

        var paths = schema.Body.GetProperty("paths");
        var parameters = paths.TryGetProperty("/api/v1/chat/{id}/messages", out var messages) && messages.TryGetProperty("post", out var post)
            && post.TryGetProperty("parameters", out var found) ? found : default;
        Assert.True(parameters.ValueKind == System.Text.Json.JsonValueKind.Array, $"no POST messages parameters in {paths}");
        Assert.Contains(parameters.EnumerateArray(), p => p.GetProperty("name").GetString() == "Idempotency-Key");
        Assert.True(schema.Body.GetProperty("paths").TryGetProperty("/api/v1/chat/{id}/read", out _), "no read route in the document");
    }
}
