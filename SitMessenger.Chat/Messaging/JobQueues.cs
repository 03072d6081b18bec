using System.Collections.Concurrent;
using System.Globalization;
using RabbitMQ.Client;

namespace SitMessenger.Chat.Messaging;

/// <summary>
/// The RabbitMQ topology, declared idempotently by every service that uses it. Delays use no plugin: a job for later
/// goes to a per-delay queue whose messages expire after that delay and are dead-lettered into the target queue.
/// </summary>
public static class JobQueues
{
    /// <summary>Flush jobs (one per chat with new messages).</summary>
    public const string Flush = "sit.flush";

    /// <summary>The Scheduler's recurring jobs.</summary>
    public const string Jobs = "sit.jobs";

    /// <summary>Jobs that failed every attempt, with the reason in their headers, for an operator to inspect and requeue.</summary>
    public const string DeadLetters = "sit.dead-letters";

    public const string AttemptHeader = "x-sit-attempt";
    public const string ErrorHeader = "x-sit-error";
    public const string FailedAtHeader = "x-sit-failed-at";
    public const string OriginalQueueHeader = "x-sit-original-queue";

    private static readonly ConcurrentDictionary<string, bool> DeclaredDelays = new(StringComparer.Ordinal);

    public static async Task DeclareAsync(IChannel channel, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channel);
        await channel.QueueDeclareAsync(DeadLetters, durable: true, exclusive: false, autoDelete: false, cancellationToken: cancellationToken);
        foreach (var queue in new[] { Flush, Jobs })
        {
            // A message a consumer rejects outright (never ours to do, but a broken client might) still lands with the dead letters.
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
                arguments: new Dictionary<string, object?>
                {
                    ["x-dead-letter-exchange"] = "",
                    ["x-dead-letter-routing-key"] = DeadLetters,
                },
                cancellationToken: cancellationToken);
        }
    }

    public static string DelayQueueName(string target, TimeSpan delay) =>
        string.Create(CultureInfo.InvariantCulture, $"sit.delay.{target}.{(long)delay.TotalMilliseconds}ms");

    /// <summary>Declares (once per process) the queue that holds messages for <paramref name="delay"/> and then moves them to <paramref name="target"/>.</summary>
    public static async Task<string> DeclareDelayAsync(IChannel channel, string target, TimeSpan delay, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channel);
        var name = DelayQueueName(target, delay);
        if (DeclaredDelays.ContainsKey(name))
        {
            return name;
        }

        await channel.QueueDeclareAsync(name, durable: true, exclusive: false, autoDelete: false,
            arguments: new Dictionary<string, object?>
            {
                ["x-message-ttl"] = (long)delay.TotalMilliseconds,
                ["x-dead-letter-exchange"] = "",
                ["x-dead-letter-routing-key"] = target,
            },
            cancellationToken: cancellationToken);
        DeclaredDelays[name] = true;
        return name;
    }
}
