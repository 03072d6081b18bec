using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace SitMessenger.Chat.Integrations;

/// <summary>Logs a Redis outage and its end once each (<see cref="OutageLog"/>), from the multiplexer's connection events.</summary>
internal sealed class RedisOutageWatcher(IServiceProvider services, ILogger<RedisOutageWatcher> logger, TimeProvider time) : IHostedService
{
    private readonly OutageLog _outages = new("Redis", logger, time);
    private IConnectionMultiplexer? _redis;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _redis = services.GetRequiredService<IConnectionMultiplexer>();
        _redis.ConnectionFailed += OnFailed;
        _redis.ConnectionRestored += OnRestored;
        if (!_redis.IsConnected)
        {
            _outages.Down("not connected at start");
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (_redis is not null)
        {
            _redis.ConnectionFailed -= OnFailed;
            _redis.ConnectionRestored -= OnRestored;
        }

        return Task.CompletedTask;
    }

    // The interactive connection is the one requests use; the subscription connection fails and returns with it.
    private void OnFailed(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Interactive)
        {
            _outages.Down($"{e.FailureType} at {e.EndPoint}");
        }
    }

    private void OnRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Interactive)
        {
            _outages.Up();
        }
    }
}
