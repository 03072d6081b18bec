using RabbitMQ.Client;
using SitMessenger.Chat.Integrations;

namespace SitMessenger.Chat.Messaging;

/// <summary>
/// The one AMQP connection a service shares, the client integration's IConnection. It is opened on first use rather
/// than at start-up so a service comes up (and reports itself unhealthy) while RabbitMQ is still starting or down.
/// </summary>
public sealed class RabbitMqConnection(Func<IConnection> open, OutageLog? outages = null) : IDisposable
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
            return _connection ??= Open();
        }
        finally
        {
            _gate.Release();
        }
    }

    private IConnection Open()
    {
        IConnection connection;
        try
        {
            connection = open();
        }
        catch (Exception ex)
        {
            outages?.Down(ex.Message);
            throw;
        }

        outages?.Up();
        if (outages is not null)
        {
            // Shut down by the broker or the network (not by us at exit): recovery then retries every few seconds,
            // raising an error event per attempt, which is not the outage's news.
            connection.ConnectionShutdownAsync += (_, e) =>
            {
                if (e.Initiator != ShutdownInitiator.Application)
                {
                    outages.Down(e.ReplyText);
                }

                return Task.CompletedTask;
            };
            connection.RecoverySucceededAsync += (_, _) =>
            {
                outages.Up();
                return Task.CompletedTask;
            };
        }

        return connection;
    }

    public void Dispose() => _gate.Dispose();
}
