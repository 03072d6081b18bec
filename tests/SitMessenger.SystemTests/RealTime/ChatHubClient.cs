using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace SitMessenger.SystemTests.RealTime;

public sealed record HubMessage(Guid ChatId, long Seq, DateTime Datetime, string User, Guid? UserId, string? Message);

public sealed record HubTyping(Guid ChatId, string User, Guid UserId, int ExpiresInMs);

public sealed record HubRead(Guid ChatId, string User, Guid UserId, long Seq);

public sealed record HubChat(Guid ChatId, string Kind, long LastSeq);

public sealed record HubSent(Guid ChatId, long Seq, DateTime Datetime, string User, string Message, bool Repeated);

public sealed record HubReadResult(Guid ChatId, long ReadSeq);

public sealed record HubCatchUpMessage(long Seq, DateTime Datetime, string User, string Message);

public sealed record HubCatchUp(Guid ChatId, IReadOnlyList<HubCatchUpMessage> Messages, bool HasMore, long LastSeq);

/// <summary>
/// A real SignalR .NET client on /hubs/chat that records every event as it arrived (nothing reordered or dropped),
/// so tests can check what the server delivered: to whom, how often, in which order.
/// </summary>
public sealed class ChatHubClient : IAsyncDisposable
{
    public static readonly TimeSpan EventWait = TimeSpan.FromSeconds(15);

    private readonly Lock _gate = new();
    private readonly List<HubMessage> _messages = [];
    private readonly List<HubTyping> _typing = [];
    private readonly List<HubRead> _reads = [];
    private readonly List<HubChat> _chats = [];
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChatHubClient(HubConnection connection)
    {
        Connection = connection;
        connection.On<HubMessage>("message", m => Record(_messages, m));
        connection.On<HubTyping>("typing", t => Record(_typing, t));
        connection.On<HubRead>("read", r => Record(_reads, r));
        connection.On<HubChat>("chat", c => Record(_chats, c));
        connection.On<JsonElement>("ready", _ => _ready.TrySetResult());
    }

    public HubConnection Connection { get; }

    /// <summary>Called with each message event as it arrives (after it is recorded).</summary>
    public Action<HubMessage>? OnMessage { get; set; }

    /// <summary>Builds (not starts) a connection to <paramref name="server"/>/hubs/chat: WebSockets only, the token as SignalR sends it.</summary>
    public static HubConnection Build(Uri server, string? access, bool tokenInQuery = false)
    {
        var url = new Uri(server, tokenInQuery && access is not null ? $"/hubs/chat?access_token={Uri.EscapeDataString(access)}" : "/hubs/chat");
        return new HubConnectionBuilder()
            .WithUrl(url, options =>
            {
                // Straight to a WebSocket: no negotiate round trip that another replica could answer.
                options.SkipNegotiation = true;
                options.Transports = HttpTransportType.WebSockets;
                if (access is not null && !tokenInQuery)
                {
                    options.AccessTokenProvider = () => Task.FromResult<string?>(access);
                }
            })
            .AddJsonProtocol(json => json.PayloadSerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower)
            .Build();
    }

    public static async Task<ChatHubClient> ConnectAsync(Uri server, string access, bool tokenInQuery = false)
    {
        var client = new ChatHubClient(Build(server, access, tokenInQuery));
        using var timeout = new CancellationTokenSource(EventWait);
        await client.Connection.StartAsync(timeout.Token);
        // Only after "ready" does the connection hear every event of its user's chats.
        await client._ready.Task.WaitAsync(timeout.Token);
        return client;
    }

    public IReadOnlyList<HubMessage> Messages(Guid chatId) => Snapshot(_messages, m => m.ChatId == chatId);

    public IReadOnlyList<HubTyping> Typing(Guid chatId) => Snapshot(_typing, t => t.ChatId == chatId);

    public IReadOnlyList<HubRead> Reads(Guid chatId) => Snapshot(_reads, r => r.ChatId == chatId);

    public IReadOnlyList<HubChat> Chats(Guid chatId) => Snapshot(_chats, c => c.ChatId == chatId);

    /// <summary>Everything this connection heard about the chat, of any kind.</summary>
    public int EventCount(Guid chatId) => Messages(chatId).Count + Typing(chatId).Count + Reads(chatId).Count + Chats(chatId).Count;

    public Task<HubSent> SendAsync(Guid chatId, string text, string? clientMessageId = null) =>
        Connection.InvokeAsync<HubSent>("Send", new { chat_id = chatId, message = text, client_message_id = clientMessageId });

    public Task<HubCatchUp> CatchUpAsync(Guid chatId, long afterSeq, int? limit = null) =>
        Connection.InvokeAsync<HubCatchUp>("CatchUp", new { chat_id = chatId, after_seq = afterSeq, limit });

    public Task<HubReadResult> MarkReadAsync(Guid chatId, long seq) =>
        Connection.InvokeAsync<HubReadResult>("MarkRead", new { chat_id = chatId, seq });

    public Task TypingAsync(Guid chatId) => Connection.InvokeAsync("Typing", chatId);

    /// <summary>Waits until <paramref name="condition"/> holds of this client, or fails saying what was awaited.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > (timeout ?? EventWait))
            {
                Assert.Fail($"waited {watch.Elapsed.TotalSeconds:0.0} s for {what}");
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync() => await Connection.DisposeAsync();

    private void Record<T>(List<T> list, T item)
    {
        lock (_gate)
        {
            list.Add(item);
        }

        if (item is HubMessage message)
        {
            OnMessage?.Invoke(message);
        }
    }

    private List<T> Snapshot<T>(List<T> list, Func<T, bool> filter)
    {
        lock (_gate)
        {
            return [.. list.Where(filter)];
        }
    }
}
