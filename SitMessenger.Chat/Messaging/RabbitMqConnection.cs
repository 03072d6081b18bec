using RabbitMQ.Client;

namespace SitMessenger.Chat.Messaging;

/// <summary>
/// The one AMQP connection a service shares, the client integration's IConnection. It is opened on first use rather
/// than at start-up so a service comes up (and reports itself unhealthy) while RabbitMQ is still starting or down.
/// </summary>
public sealed class RabbitMqConnection(Func<IConnection> open) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IConnection? _connection;

    public async Task<IConnection> GetAsync(CancellationToken cancellationToken)
    {
        if (_connection is { } existing)
        {
            return existing;
        }

        // Opening blocks its thread; the other callers wait here without blocking theirs, and can give up.
        await _gate.WaitAsync(cancellationToken);
        try
        {
            // A failed open is not kept, so the next call tries again. Automatic recovery reopens a connection that
            // was once established; only the first open is ours. The container owns the connection and closes it.
            return _connection ??= open();
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
