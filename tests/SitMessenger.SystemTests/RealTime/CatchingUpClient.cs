namespace SitMessenger.SystemTests.RealTime;

/// <summary>
/// One chat followed as a mobile app would: every message applied once, in seq order. Live events past a gap wait
/// until CatchUp (the history the Api serves) fills it; on (re)connect it catches up from the last seq it applied
/// before applying what arrives live. It can be dropped and reconnected at any moment.
/// </summary>
public sealed class CatchingUpClient(Uri server, string access, Guid chatId) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<long, string> _waiting = [];
    private readonly List<(long Seq, string Text)> _applied = [];
    private readonly SemaphoreSlim _catchingUp = new(1, 1);
    private ChatHubClient? _client;
    private long _last;

    /// <summary>The connections it has had, each with what it heard live (for checking the server sent nothing twice).</summary>
    public List<ChatHubClient> Connections { get; } = [];

    public IReadOnlyList<(long Seq, string Text)> Applied
    {
        get
        {
            lock (_gate)
            {
                return [.. _applied];
            }
        }
    }

    public long LastSeq
    {
        get
        {
            lock (_gate)
            {
                return _last;
            }
        }
    }

    public async Task ConnectAsync(long lastSeen)
    {
        lock (_gate)
        {
            _last = Math.Max(_last, lastSeen);
        }

        await ReconnectAsync();
    }

    /// <summary>A new connection, then catch-up from the last applied seq; live events meanwhile wait their turn.</summary>
    public async Task ReconnectAsync()
    {
        var client = await ChatHubClient.ConnectAsync(server, access);
        client.OnMessage = m =>
        {
            if (m.ChatId == chatId)
            {
                Offer(m.Seq, m.Message ?? "");
            }
        };
        Connections.Add(client);
        _client = client;
        await CatchUpAsync();
    }

    /// <summary>Drops the connection at once, as a phone losing its network does (no goodbye to the server).</summary>
    public async Task DropAsync()
    {
        if (_client is { } client)
        {
            _client = null;
            await client.DisposeAsync();
        }
    }

    public async Task CatchUpAsync()
    {
        await _catchingUp.WaitAsync();
        try
        {
            while (_client is { } client)
            {
                var missed = await client.CatchUpAsync(chatId, LastSeq);
                foreach (var m in missed.Messages)
                {
                    Offer(m.Seq, m.Message);
                }

                if (!missed.HasMore)
                {
                    return;
                }
            }
        }
        finally
        {
            _catchingUp.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await DropAsync();
        foreach (var connection in Connections)
        {
            await connection.DisposeAsync();
        }

        _catchingUp.Dispose();
    }

    private void Offer(long seq, string text)
    {
        bool gap;
        lock (_gate)
        {
            if (seq > _last)
            {
                _waiting.TryAdd(seq, text);
            }

            while (_waiting.Remove(_last + 1, out var next))
            {
                _last++;
                _applied.Add((_last, next));
            }

            gap = _waiting.Count > 0;
        }

        if (gap && _catchingUp.CurrentCount > 0)
        {
            // Something before the waiting events never came live (a drop, a Redis restart): fetch it.
            _ = Task.Run(async () =>
            {
                try
                {
                    await CatchUpAsync();
                }
                catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException or TaskCanceledException)
                {
                    // The connection went away meanwhile; the next connect catches up.
                }
            });
        }
    }
}
