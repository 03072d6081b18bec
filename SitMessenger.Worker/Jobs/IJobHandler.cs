using SitMessenger.Chat.Messaging;

namespace SitMessenger.Worker.Jobs;

/// <summary>Runs one type of job. It must be safe to run twice: RabbitMQ redelivers a job whose ack was lost.</summary>
internal interface IJobHandler
{
    string JobType { get; }

    /// <summary>A short outcome for the jobs view ("moved 120 messages"); never message content.</summary>
    Task<string> RunAsync(JobEnvelope job, CancellationToken cancellationToken);
}
