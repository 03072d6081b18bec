using Microsoft.Extensions.Options;
using Npgsql;
using SitMessenger.Chat.Messaging;
using SitMessenger.Worker.Jobs;

namespace SitMessenger.Worker.Flushing;

/// <summary>
/// Queues a flush for every chat whose pending messages are older than the flush delay. Flush jobs are published
/// best-effort by the Api (RabbitMQ may be down when a message arrives); this sweep is what guarantees they happen.
/// </summary>
internal sealed class PendingSweep(NpgsqlDataSource database, JobPublisher publisher, IOptions<FlushOptions> flush, TimeProvider time) : IJobHandler
{
    private const int MaxChatsPerSweep = 10_000;

    public string JobType => JobTypes.SweepPending;

    public async Task<string> RunAsync(JobEnvelope job, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand(
            "SELECT DISTINCT chat_id FROM pending_messages WHERE created < @cutoff LIMIT @limit");
        command.Parameters.AddWithValue("cutoff", time.GetUtcNow() - flush.Value.Delay);
        command.Parameters.AddWithValue("limit", MaxChatsPerSweep);
        var chats = new List<Guid>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                chats.Add(reader.GetGuid(0));
            }
        }

        foreach (var chatId in chats)
        {
            await publisher.PublishAsync(JobEnvelope.Create(JobTypes.FlushChat, chatId, time), JobQueues.Flush, TimeSpan.Zero, cancellationToken);
        }

        return $"queued {chats.Count} overdue flushes";
    }
}
