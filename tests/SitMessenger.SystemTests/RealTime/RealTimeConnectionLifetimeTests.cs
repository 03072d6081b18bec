using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.SignalR.Client;
using SitMessenger.SystemTests.Api;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests.RealTime;

/// <summary>
/// Through the Gateway a live client's connection lasts (its body limit and timeouts do not cut it), while a silent
/// one is closed by the server: one that never completes the handshake, and one that stops pinging.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class RealTimeConnectionLifetimeTests(SitMessengerAppFixture fixture)
{
    private readonly SitApiClient _api = new(fixture.Gateway);

    [Fact]
    public async Task A_live_connection_outlasts_the_gateway_limits_and_silent_ones_time_out()
    {
        var users = await RealTimeSetup.UsersAsync(_api);
        var (alice, bob) = (users[0], users[1]);
        var chatId = await RealTimeSetup.CreateChatAsync(_api, alice, bob);
        var gateway = RealTimeSetup.Gateway(fixture);
        await using var live = await ChatHubClient.ConnectAsync(gateway, alice.Access);
        await using var listener = await ChatHubClient.ConnectAsync(gateway, bob.Access);
        using var noHandshake = await OpenRawAsync(gateway, bob.Access, handshake: false);
        using var noPings = await OpenRawAsync(gateway, bob.Access, handshake: true);

        // More than the Gateway's 1 MiB request body limit up one connection: 100 messages of 3,750 three-byte characters.
        var big = new string('€', 3750);
        for (var i = 0; i < 100; i++)
        {
            await live.SendAsync(chatId, big);
        }

        // Past the handshake timeout (15 s) and the client timeout (30 s), with nothing sent by the application.
        await Task.Delay(TimeSpan.FromSeconds(40));
        Assert.Equal(HubConnectionState.Connected, live.Connection.State);
        var last = await live.SendAsync(chatId, "still here");
        await ChatHubClient.WaitUntilAsync(() => listener.Messages(chatId).Any(m => m.Seq == last.Seq), "the message after 40 s");
        Assert.Equal(101, listener.Messages(chatId).Count);

        Assert.True(await ClosedAsync(noHandshake), "a connection that never completed the handshake is still open after 40 s");
        Assert.True(await ClosedAsync(noPings), "a connection that never pinged is still open after 40 s");
    }

    private static async Task<ClientWebSocket> OpenRawAsync(Uri gateway, string access, bool handshake)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + access);
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        await socket.ConnectAsync(new UriBuilder(gateway) { Scheme = "ws", Path = "/hubs/chat" }.Uri, CancellationToken.None);
        if (handshake)
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}\u001e"), WebSocketMessageType.Text, true, CancellationToken.None);
        }

        return socket;
    }

    /// <summary>Reads what the server sent until it closes (true) or nothing more comes within a few seconds (false).</summary>
    private static async Task<bool> ClosedAsync(ClientWebSocket socket)
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                var received = await socket.ReceiveAsync(buffer, wait.Token);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    return true;
                }
            }
        }
        catch (WebSocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return socket.State is WebSocketState.Closed or WebSocketState.Aborted or WebSocketState.CloseReceived;
        }
    }
}
