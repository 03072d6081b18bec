using RabbitMQ.Client;

namespace SitMessenger.Chat.Messaging;

/// <summary>
/// The one AMQP connection a service shares. It is opened on first use rather than at start-up so a service
/// comes up (and reports itself unhealthy) while RabbitMQ is still starting or down.
/// </summary>
public sealed class RabbitMqConnection(IConnectionFactory factory) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IConnection? _connection;

    public async Task<IConnection> GetAsync(CancellationToken cancellationToken)
    {
        if (_connection is { } existing)
        {
            return existing;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            // Automatic recovery reopens a connection that was once established; only the first open is ours.
            return _connection ??= await factory.CreateConnectionAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is { } connection)
        {
            await connection.DisposeAsync();
        }

        _gate.Dispose();
    }
}
