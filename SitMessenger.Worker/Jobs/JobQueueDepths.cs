using System.Globalization;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using SitMessenger.Chat.Messaging;

namespace SitMessenger.Worker.Jobs;

/// <summary>A queue the jobs page watches, and what it is for.</summary>
internal sealed record JobQueue(string Name, string Role);

/// <param name="Declared">False while the broker has no such queue: a delay queue exists only once a job waited that long.</param>
internal sealed record QueueDepth(string Queue, string Role, bool Declared, uint Messages, uint Consumers);

/// <summary>
/// How many messages wait on each job queue and how many consumers take them, as the broker counts them. Plain AMQP
/// (a passive declare) rather than the management API, so it needs nothing the Worker does not already have.
/// </summary>
internal static class JobQueueDepths
{
    /// <summary>
    /// The job queues, and the delay queues this configuration publishes to. AMQP cannot list queues, so the delay
    /// queues are named from the same settings that name them when publishing (<see cref="JobQueues.DelayQueueName"/>):
    /// the retry backoff for both job queues, and the flush delay (the AppHost gives the Api and the Worker the same
    /// one). A delay queue left from an earlier configuration is not shown; it empties itself within its delay.
    /// </summary>
    public static IReadOnlyList<JobQueue> Watched(JobOptions jobs, FlushOptions flush)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        ArgumentNullException.ThrowIfNull(flush);
        var queues = new List<JobQueue>
        {
            new(JobQueues.Flush, "flush jobs"),
            new(JobQueues.Jobs, "scheduled jobs"),
            new(JobQueues.DeadLetters, "dead letters"),
        };

        var delays = new List<(string Target, TimeSpan Delay, string Why)> { (JobQueues.Flush, flush.Delay, "flush delay") };

        foreach (var target in new[] { JobQueues.Flush, JobQueues.Jobs })
        {
            // Attempt n (1-based) that fails waits RetryDelay(n) before attempt n + 1; the last attempt is not retried.
            for (var attempt = 1; attempt < jobs.MaxAttempts; attempt++)
            {
                delays.Add((target, jobs.RetryDelay(attempt), "retry"));
            }
        }

        // Delays that coincide share one queue (the backoff's cap, or a retry as long as the flush delay): listed once.
        // A zero delay is published straight to its queue (JobPublisher), so it has no delay queue.
        queues.AddRange(delays
            .Where(d => d.Delay > TimeSpan.Zero)
            .DistinctBy(d => JobQueues.DelayQueueName(d.Target, d.Delay), StringComparer.Ordinal)
            .OrderBy(d => d.Target, StringComparer.Ordinal)
            .ThenBy(d => d.Delay)
            .Select(d => new JobQueue(
                JobQueues.DelayQueueName(d.Target, d.Delay),
                string.Create(CultureInfo.InvariantCulture, $"{d.Why}: {d.Delay.TotalSeconds:0.###} s, then {d.Target}"))));
        return queues;
    }

    public static async Task<IReadOnlyList<QueueDepth>> ReadAsync(RabbitMqConnection connection, IReadOnlyList<JobQueue> queues, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(queues);
        var amqp = await connection.GetAsync(cancellationToken);
        var depths = new List<QueueDepth>(queues.Count);
        IChannel? channel = null;
        try
        {
            foreach (var queue in queues)
            {
                channel ??= await amqp.CreateChannelAsync(cancellationToken: cancellationToken);
                try
                {
                    // Passive: only asks. Declaring here would create a delay queue nothing publishes to.
                    var ok = await channel.QueueDeclarePassiveAsync(queue.Name, cancellationToken);
                    depths.Add(new QueueDepth(queue.Name, queue.Role, Declared: true, ok.MessageCount, ok.ConsumerCount));
                }
                catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == Constants.NotFound)
                {
                    // The broker answers an unknown queue by closing the channel: the next queue needs a new one.
                    depths.Add(new QueueDepth(queue.Name, queue.Role, Declared: false, 0, 0));
                    await CloseQuietlyAsync(channel);
                    channel = null;
                }
            }
        }
        finally
        {
            if (channel is not null)
            {
                await CloseQuietlyAsync(channel);
            }
        }

        return depths;
    }

    private static async Task CloseQuietlyAsync(IChannel channel)
    {
        try
        {
            await channel.DisposeAsync();
        }
        catch (Exception ex) when (ex is AlreadyClosedException or IOException or ObjectDisposedException)
        {
            // Closed by the broker already; nothing is left to release.
        }
    }
}
