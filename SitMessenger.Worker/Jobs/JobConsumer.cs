using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;
using SitMessenger.Chat.Messaging;

namespace SitMessenger.Worker.Jobs;

/// <summary>
/// Takes jobs from the flush and jobs queues, runs them, and acknowledges each only after its work is committed.
/// A failure is retried through a delay queue with exponential backoff; after the last attempt the job goes to the
/// dead-letter queue with the reason. Nothing is acknowledged before its retry or dead letter is confirmed published.
/// </summary>
internal sealed partial class JobConsumer(
    RabbitMqConnection connection,
    JobPublisher publisher,
    IEnumerable<IJobHandler> handlers,
    JobEvents events,
    IOptions<JobOptions> options,
    ILogger<JobConsumer> logger) : BackgroundService
{
    private readonly Dictionary<string, IJobHandler> _handlers = handlers.ToDictionary(h => h.JobType, StringComparer.Ordinal);
    private readonly JobOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var amqp = await connection.GetAsync(stoppingToken);
                // One channel per queue: a long compaction never holds up flushes.
                await using var flushChannel = await ConsumeAsync(amqp, JobQueues.Flush, stoppingToken);
                await using var jobsChannel = await ConsumeAsync(amqp, JobQueues.Jobs, stoppingToken);
                LogConsuming(logger, JobQueues.Flush, JobQueues.Jobs);
                // The connection recovers itself (and these consumers) after a broker restart.
                await Task.Delay(Timeout.Infinite, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is BrokerUnreachableException or OperationInterruptedException or IOException or AlreadyClosedException)
            {
                LogBrokerUnavailable(logger, ex);
                await Task.Delay(TimeSpan.FromSeconds(5), stoppingToken);
            }
        }
    }

    private async Task<IChannel> ConsumeAsync(IConnection amqp, string queue, CancellationToken stoppingToken)
    {
        var channel = await amqp.CreateChannelAsync(cancellationToken: stoppingToken);
        await channel.BasicQosAsync(0, _options.Prefetch, global: false, stoppingToken);
        await JobQueues.DeclareAsync(channel, stoppingToken);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) => HandleAsync(channel, queue, delivery, stoppingToken);
        await channel.BasicConsumeAsync(queue, autoAck: false, consumer, stoppingToken);
        return channel;
    }

    private async Task HandleAsync(IChannel channel, string queue, BasicDeliverEventArgs delivery, CancellationToken stoppingToken)
    {
        var job = JobEnvelope.TryDeserialize(delivery.Body.Span);
        if (job is null)
        {
            // Not a job at all: retrying cannot help. The queue's dead-letter route keeps it for an operator.
            LogPoison(logger, queue, delivery.BasicProperties.MessageId);
            events.RecordMalformed(delivery.BasicProperties.MessageId, queue);
            await channel.BasicRejectAsync(delivery.DeliveryTag, requeue: false, stoppingToken);
            return;
        }

        events.Record(job, queue, JobState.Received);
        using var activity = WorkerTelemetry.Source.StartActivity($"{job.Type} process", ActivityKind.Consumer, ParentContext(delivery.BasicProperties));
        activity?.SetTag("messaging.system", "rabbitmq");
        activity?.SetTag("messaging.source.name", queue);
        activity?.SetTag("sit.job.id", job.Id);
        activity?.SetTag("sit.job.attempt", job.Attempt);

        var started = Stopwatch.GetTimestamp();
        events.Record(job, queue, JobState.Started);
        try
        {
            var handler = _handlers.GetValueOrDefault(job.Type)
                ?? throw new InvalidOperationException($"unknown job type '{job.Type}'");
            var outcome = await handler.RunAsync(job, stoppingToken);
            events.Record(job, queue, JobState.Succeeded, Stopwatch.GetElapsedTime(started), outcome);
            await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down mid-job: no ack, so RabbitMQ hands the job to another Worker (or to us after restart).
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            events.Record(job, queue, JobState.Failed, Stopwatch.GetElapsedTime(started), ex.Message);
            await RetryOrDeadLetterAsync(channel, queue, delivery, job, ex, stoppingToken);
        }
    }

    private async Task RetryOrDeadLetterAsync(IChannel channel, string queue, BasicDeliverEventArgs delivery, JobEnvelope job, Exception error, CancellationToken stoppingToken)
    {
        try
        {
            if (job.Attempt < _options.MaxAttempts)
            {
                var delay = _options.RetryDelay(job.Attempt);
                LogRetry(logger, job.Type, job.Id, job.Attempt, delay.TotalSeconds, error);
                await publisher.PublishAsync(job with { Attempt = job.Attempt + 1 }, queue, delay, stoppingToken);
                events.Record(job, queue, JobState.Retried, detail: $"attempt {job.Attempt + 1} in {delay.TotalSeconds:0.#} s");
            }
            else
            {
                LogDeadLettered(logger, job.Type, job.Id, job.Attempt, error);
                await publisher.PublishAsync(job, JobQueues.DeadLetters, TimeSpan.Zero, stoppingToken, new Dictionary<string, object?>
                {
                    [JobQueues.ErrorHeader] = Truncate(error.Message, 1000),
                    [JobQueues.FailedAtHeader] = DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                    [JobQueues.OriginalQueueHeader] = queue,
                });
                events.Record(job, queue, JobState.DeadLettered, detail: error.Message);
            }

            await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, stoppingToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Could not park the retry: give the job back to the queue rather than lose it.
            LogRequeued(logger, job.Id, ex);
            events.Record(job, queue, JobState.Requeued, detail: "could not park the retry: " + ex.Message);
            await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            await channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true, stoppingToken);
        }
    }

    private static ActivityContext ParentContext(IReadOnlyBasicProperties properties)
    {
        if (properties.Headers?.TryGetValue("traceparent", out var value) == true && value is byte[] bytes
            && ActivityContext.TryParse(Encoding.UTF8.GetString(bytes), null, out var context))
        {
            return context;
        }

        return default;
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length];

    [LoggerMessage(Level = LogLevel.Information, Message = "Consuming jobs from {FlushQueue} and {JobsQueue}")]
    private static partial void LogConsuming(ILogger logger, string flushQueue, string jobsQueue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "RabbitMQ is unavailable; retrying in 5 s")]
    private static partial void LogBrokerUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "A message on {Queue} (id {MessageId}) is not a job; moved to the dead-letter queue")]
    private static partial void LogPoison(ILogger logger, string queue, string? messageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobType} {JobId} failed on attempt {Attempt}; retrying in {DelaySeconds} s")]
    private static partial void LogRetry(ILogger logger, string jobType, string jobId, int attempt, double delaySeconds, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobType} {JobId} failed {Attempt} times; moved to the dead-letter queue. Fix the cause, then requeue it (the Worker's \"Requeue dead letters\" command in the dashboard, or POST /jobs/dead-letters/requeue with the operator key)")]
    private static partial void LogDeadLettered(ILogger logger, string jobType, string jobId, int attempt, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not publish the retry of job {JobId}; returning it to its queue")]
    private static partial void LogRequeued(ILogger logger, string jobId, Exception exception);
}
