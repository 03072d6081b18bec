using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace SitMessenger.Bench.RealTime;

internal sealed record BenchUser(string Id, string Username, string Access);

internal sealed record BenchMessage(Guid ChatId, long Seq, string? Message);

internal sealed record RunFigures(string Name, int Sent, int Errors, TimeSpan Duration, IReadOnlyList<double> LatenciesMs)
{
    public double SendsPerSecond => Sent / Duration.TotalSeconds;

    public double Percentile(double p)
    {
        if (LatenciesMs.Count == 0)
        {
            return double.NaN;
        }

        var sorted = LatenciesMs.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}

/// <summary>
/// The active part of the load: chats of two, one member sending through the hub, the other receiving, both through
/// the Gateway. Each text carries its send time, so the receiver measures send-to-receive.
/// </summary>
internal sealed class ActiveChats : IAsyncDisposable
{
    private readonly List<(Guid ChatId, HubConnection Sender, HubConnection Receiver)> _chats = [];
    private readonly Lock _gate = new();
    private List<double> _latencies = [];
    private long _measureFrom = long.MaxValue;

    public static HubConnection Connection(Uri server, string access) => new HubConnectionBuilder()
        .WithUrl(new Uri(server, "/hubs/chat"), options =>
        {
            options.SkipNegotiation = true;
            options.Transports = HttpTransportType.WebSockets;
            options.AccessTokenProvider = () => Task.FromResult<string?>(access);
        })
        .AddJsonProtocol(json => json.PayloadSerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower)
        .Build();

    public async Task AddAsync(Uri gateway, HttpClient http, BenchUser sender, BenchUser receiver)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/chat/") { Content = JsonContent.Create(new { owner = receiver.Id }) };
        request.Headers.Authorization = new("Bearer", sender.Access);
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var chatId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

        var senderConnection = Connection(gateway, sender.Access);
        var receiverConnection = Connection(gateway, receiver.Access);
        receiverConnection.On<BenchMessage>("message", Received);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        receiverConnection.On<JsonElement>("ready", _ => ready.TrySetResult());
        await senderConnection.StartAsync();
        await receiverConnection.StartAsync();
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(30));
        _chats.Add((chatId, senderConnection, receiverConnection));
    }

    /// <summary>
    /// Sends at <paramref name="rate"/> messages/s in total (0: as fast as each chat's sender gets its answers) for
    /// <paramref name="duration"/>, and waits a moment for the last messages to arrive.
    /// </summary>
    public async Task<RunFigures> RunAsync(string name, double rate, TimeSpan duration)
    {
        lock (_gate)
        {
            _latencies = [];
        }

        Interlocked.Exchange(ref _measureFrom, Stopwatch.GetTimestamp());
        var sent = 0;
        var errors = 0;
        var watch = Stopwatch.StartNew();
        var interval = rate > 0 ? TimeSpan.FromSeconds(_chats.Count / rate) : TimeSpan.Zero;
        await Task.WhenAll(_chats.Select((chat, index) => Task.Run(async () =>
        {
            // Staggered, so the chats do not all send in the same millisecond.
            var due = interval * ((double)index / _chats.Count);
            while (watch.Elapsed < duration)
            {
                if (due > watch.Elapsed)
                {
                    await Task.Delay(due - watch.Elapsed);
                }

                due += interval;
                try
                {
                    var text = string.Create(CultureInfo.InvariantCulture, $"t={Stopwatch.GetTimestamp()}");
                    await chat.Sender.InvokeAsync<JsonElement>("Send", new { chat_id = chat.ChatId, message = text });
                    Interlocked.Increment(ref sent);
                }
                catch (Exception e) when (e is Microsoft.AspNetCore.SignalR.HubException or InvalidOperationException or TaskCanceledException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        })));
        var elapsed = watch.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(1));
        lock (_gate)
        {
            return new RunFigures(name, sent, errors, elapsed, [.. _latencies]);
        }
    }

    private void Received(BenchMessage message)
    {
        var now = Stopwatch.GetTimestamp();
        if (message.Message is { } text && text.StartsWith("t=", StringComparison.Ordinal)
            && long.TryParse(text.AsSpan(2), NumberStyles.Integer, CultureInfo.InvariantCulture, out var sentAt)
            && sentAt >= Interlocked.Read(ref _measureFrom))
        {
            lock (_gate)
            {
                _latencies.Add(Stopwatch.GetElapsedTime(sentAt, now).TotalMilliseconds);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, sender, receiver) in _chats)
        {
            await sender.DisposeAsync();
            await receiver.DisposeAsync();
        }
    }
}
