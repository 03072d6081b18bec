using System.Text;
using RabbitMQ.Client;
using SitMessenger.Chat.Messaging;

namespace SitMessenger.Worker.Jobs;

/// <param name="Queue">The queue the job failed on, where a requeue sends it back.</param>
/// <param name="ChatId">The chat a flush was for; null for jobs that are not about one chat.</param>
internal sealed record DeadLetterView(string JobId, string Type, int Attempts, string? Error, string? FailedAt, string? Queue, Guid? ChatId = null);

/// <summary>The operator's side of the dead-letter queue: look at what failed, and requeue it once the cause is fixed.</summary>
internal sealed class DeadLetters(RabbitMqConnection connection, JobPublisher publisher, TimeProvider time)
{
    private const int MaxBatch = 1000;

    /// <summary>Looks at up to <paramref name="count"/> dead letters without taking them (they are returned to the queue).</summary>
    public async Task<IReadOnlyList<DeadLetterView>> PeekAsync(int count, CancellationToken cancellationToken)
    {
        var amqp = await connection.GetAsync(cancellationToken);
        await using var channel = await amqp.CreateChannelAsync(cancellationToken: cancellationToken);
        await JobQueues.DeclareAsync(channel, cancellationToken);
        var seen = new List<DeadLetterView>();
        while (seen.Count < Math.Min(count, MaxBatch) && await channel.BasicGetAsync(JobQueues.DeadLetters, autoAck: false, cancellationToken) is { } message)
        {
            var job = JobEnvelope.TryDeserialize(message.Body.Span);
            var headers = message.BasicProperties.Headers;
            seen.Add(new DeadLetterView(
                job?.Id ?? message.BasicProperties.MessageId ?? "?",
                job?.Type ?? "(malformed)",
                job?.Attempt ?? 0,
                Header(headers, JobQueues.ErrorHeader) ?? (job is null ? "body is not a job" : null),
                Header(headers, JobQueues.FailedAtHeader),
                Header(headers, JobQueues.OriginalQueueHeader),
                job?.ChatId));
        }

        // Closing the channel without acks returns every message to the queue, in order.
        return seen;
    }

    /// <summary>Moves every requeueable dead letter back to its queue with a fresh attempt count. Returns how many moved.</summary>
    public async Task<int> RequeueAsync(CancellationToken cancellationToken)
    {
        var amqp = await connection.GetAsync(cancellationToken);
        await using var channel = await amqp.CreateChannelAsync(cancellationToken: cancellationToken);
        await JobQueues.DeclareAsync(channel, cancellationToken);
        var moved = 0;
        var unmovable = new List<ulong>();
        for (var i = 0; i < MaxBatch && await channel.BasicGetAsync(JobQueues.DeadLetters, autoAck: false, cancellationToken) is { } message; i++)
        {
            var job = JobEnvelope.TryDeserialize(message.Body.Span);
            var queue = Header(message.BasicProperties.Headers, JobQueues.OriginalQueueHeader);
            if (job is null || queue is not (JobQueues.Flush or JobQueues.Jobs))
            {
                unmovable.Add(message.DeliveryTag);
                continue;
            }

            // Published (and confirmed) before the dead letter is acked: a crash in between duplicates, never loses.
            await publisher.PublishAsync(job with { Attempt = 1, Created = time.GetUtcNow() }, queue, TimeSpan.Zero, cancellationToken);
            await channel.BasicAckAsync(message.DeliveryTag, multiple: false, cancellationToken);
            moved++;
        }

        foreach (var tag in unmovable)
        {
            await channel.BasicNackAsync(tag, multiple: false, requeue: true, cancellationToken);
        }

        return moved;
    }

    private static string? Header(IDictionary<string, object?>? headers, string name) =>
        headers?.TryGetValue(name, out var value) == true && value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : null;
}
