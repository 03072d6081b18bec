using System.Net.WebSockets;

namespace SitMessenger.Api.Apis;

/// <summary>
/// A WebSocket that sends back what it receives, for checking that real-time connections pass through the Gateway
/// and any proxy in front of it. Authenticated like every hub (access_token in the query string, as browsers must).
/// </summary>
internal static class EchoHubApi
{
    private const int MaxMessageBytes = 4096;

    public static IEndpointRouteBuilder MapEchoHubApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/hubs/echo", EchoAsync).RequireAuthorization().ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> EchoAsync(HttpContext http, CancellationToken cancellationToken)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            return TypedResults.BadRequest(new Infrastructure.DetailBody("This endpoint speaks WebSocket only."));
        }

        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[MaxMessageBytes];
        while (socket.State == WebSocketState.Open)
        {
            var received = await socket.ReceiveAsync(buffer, cancellationToken);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cancellationToken);
                break;
            }

            if (!received.EndOfMessage)
            {
                await socket.CloseAsync(WebSocketCloseStatus.MessageTooBig, $"messages up to {MaxMessageBytes} bytes", cancellationToken);
                break;
            }

            await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, endOfMessage: true, cancellationToken);
        }

        return TypedResults.Empty;
    }
}
