using System.Diagnostics;
using RabbitMQ.Client;

namespace SitMessenger.Chat.Messaging;

/// <summary>
/// Publishes jobs durably: persistent messages on durable queues, each publish confirmed by the broker before it
/// returns. The current trace context travels in the headers, so a send and the flush it causes are one trace.
/// </summary>
public sealed class JobPublisher(RabbitMqConnection connection) : IAsyncDisposable
{
    public static readonly ActivitySource Source = new("SitMessenger.Jobs");

    private readonly SemaphoreSlim _gate = new(1, 1);
    private IChannel? _channel;

    public async Task PublishAsync(JobEnvelope job, string queue, TimeSpan delay, CancellationToken cancellationToken, IDictionary<string, object?>? extraHeaders = null)
    {
        ArgumentNullException.ThrowIfNull(job);
        using var activity = Source.StartActivity($"{queue} publish", ActivityKind.Producer);
        activity?.SetTag("messaging.system", "rabbitmq");
        activity?.SetTag("messaging.destination.name", queue);
        activity?.SetTag("sit.job.type", job.Type);
        activity?.SetTag("sit.job.id", job.Id);

        var headers = new Dictionary<string, object?>(extraHeaders ?? new Dictionary<string, object?>())
        {
            [JobQueues.AttemptHeader] = job.Attempt,
        };
        if (Activity.Current is { } current)
        {
            headers["traceparent"] = current.Id;
            if (current.TraceStateString is { } state)
            {
                headers["tracestate"] = state;
            }
        }

        var properties = new BasicProperties
        {
            Persistent = true,
            MessageId = job.Id,
            Type = job.Type,
            ContentType = "application/json",
            Headers = headers,
        };

        await _gate.WaitAsync(cancellationToken);
        try
        {
            var channel = await ChannelAsync(cancellationToken);
            await JobQueues.DeclareAsync(channel, cancellationToken);
            var routingKey = delay > TimeSpan.Zero ? await JobQueues.DeclareDelayAsync(channel, queue, delay, cancellationToken) : queue;
            // With confirmation tracking on, this returns once the broker has the message, and throws if it refused it.
            await channel.BasicPublishAsync("", routingKey, mandatory: true, properties, job.Serialize(), cancellationToken);
        }
        catch
        {
            // A channel that failed a publish may be closed; the next publish opens a new one.
            await ResetChannelAsync();
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<IChannel> ChannelAsync(CancellationToken cancellationToken)
    {
        if (_channel is { IsOpen: true } open)
        {
            return open;
        }

        var amqp = await connection.GetAsync(cancellationToken);
        _channel = await amqp.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
            cancellationToken);
        return _channel;
    }

    private async Task ResetChannelAsync()
    {
        if (_channel is { } channel)
        {
            _channel = null;
            try
            {
                await channel.DisposeAsync();
            }
            catch (Exception ex) when (ex is RabbitMQ.Client.Exceptions.AlreadyClosedException or IOException or ObjectDisposedException)
            {
                // Already gone with the connection.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await ResetChannelAsync();
        _gate.Dispose();
    }
}
