using Microsoft.Extensions.Options;
using SitMessenger.Chat.Messaging;
using SitMessenger.Chat.Storage;
using SitMessenger.Worker.Jobs;

namespace SitMessenger.Worker.Flushing;

/// <summary>
/// Queues a flush for every chat whose pending messages are older than the flush delay. Flush jobs are published
/// best-effort by the Api (RabbitMQ may be down when a message arrives); this sweep is what guarantees they happen.
/// </summary>
internal sealed class PendingSweep(ChatStore chats, JobPublisher publisher, IOptions<FlushOptions> flush, TimeProvider time) : IJobHandler
{
    private const int MaxChatsPerSweep = 10_000;

    public string JobType => JobTypes.SweepPending;

    public async Task<string> RunAsync(JobEnvelope job, CancellationToken cancellationToken)
    {
        var overdue = await chats.ChatsPendingSinceAsync(time.GetUtcNow() - flush.Value.Delay, MaxChatsPerSweep, cancellationToken);
        foreach (var chatId in overdue)
        {
            await publisher.PublishAsync(JobEnvelope.Create(JobTypes.FlushChat, chatId, time), JobQueues.Flush, TimeSpan.Zero, cancellationToken);
        }

        return $"queued {overdue.Count} overdue flushes";
    }
}
