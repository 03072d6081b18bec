using System.Net.WebSockets;
using System.Text;

namespace SitMessenger.Bench.RealTime;

/// <summary>
/// Many idle hub connections held cheaply: a bare WebSocket speaking just enough SignalR (the JSON handshake, a ping
/// every 15 s so the server keeps it, and reading what the server sends), as a phone with the app open but no chat
/// active would. The full .NET client per idle connection would measure the load generator, not the server.
/// </summary>
internal sealed class IdleConnections : IAsyncDisposable
{
    private static readonly byte[] Handshake = Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}\u001e");
    private static readonly byte[] Ping = Encoding.UTF8.GetBytes("{\"type\":6}\u001e");

    private readonly List<ClientWebSocket> _sockets = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private int _failed;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _sockets.Count;
            }
        }
    }

    public int Failed => Volatile.Read(ref _failed);

    /// <summary>Opens connections until <paramref name="total"/> are held, <paramref name="parallel"/> at a time, round robin over the tokens.</summary>
    public async Task GrowToAsync(int total, Uri server, IReadOnlyList<string> tokens, int parallel)
    {
        var url = new UriBuilder(server) { Scheme = server.Scheme == "https" ? "wss" : "ws", Path = "/hubs/chat" }.Uri;
        var next = Count;
        await Parallel.ForEachAsync(Enumerable.Range(next, Math.Max(0, total - next)), new ParallelOptions { MaxDegreeOfParallelism = parallel },
            async (i, cancellationToken) =>
            {
                var socket = new ClientWebSocket();
                socket.Options.SetRequestHeader("Authorization", "Bearer " + tokens[i % tokens.Count]);
                socket.Options.KeepAliveInterval = TimeSpan.Zero;
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                    await socket.ConnectAsync(url, timeout.Token);
                    await socket.SendAsync(Handshake, WebSocketMessageType.Text, true, timeout.Token);
                    lock (_gate)
                    {
                        _sockets.Add(socket);
                    }

                    _ = KeepAsync(socket);
                }
                catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
                {
                    Interlocked.Increment(ref _failed);
                    socket.Dispose();
                }
            });
    }

    private async Task KeepAsync(ClientWebSocket socket)
    {
        var buffer = new byte[512];
        var pinging = PingAsync(socket);
        try
        {
            while (!_stop.IsCancellationRequested && socket.State == WebSocketState.Open)
            {
                var received = await socket.ReceiveAsync(buffer, _stop.Token);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    Interlocked.Increment(ref _failed);
                    break;
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
        }

        await pinging;
    }

    private async Task PingAsync(ClientWebSocket socket)
    {
        try
        {
            while (!_stop.IsCancellationRequested && socket.State == WebSocketState.Open)
            {
                await Task.Delay(TimeSpan.FromSeconds(15) + TimeSpan.FromMilliseconds(Random.Shared.Next(1000)), _stop.Token);
                await socket.SendAsync(Ping, WebSocketMessageType.Text, true, _stop.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        lock (_gate)
        {
            foreach (var socket in _sockets)
            {
                socket.Abort();
                socket.Dispose();
            }

            _sockets.Clear();
        }

        _stop.Dispose();
    }
}
