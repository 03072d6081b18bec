using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using RabbitMQ.Client.Exceptions;
using SitMessenger.Chat.Messaging;
using SitMessenger.Worker.Jobs;

namespace SitMessenger.Worker.Apis;

/// <summary>
/// The jobs view's data (what Flower showed), as JSON and as the page the Aspire dashboard links to, and the
/// operator's dead-letter controls. The Worker serves it because it owns the job events and the dead letters.
/// </summary>
internal static class JobsApi
{
    private const int PageEvents = 100;
    private const int PageDeadLetters = 100;

    public static IEndpointRouteBuilder MapJobsApi(this IEndpointRouteBuilder app)
    {
        var jobs = app.MapGroup("/jobs").WithTags("Jobs");

        jobs.MapGet("/", GetPageAsync);

        jobs.MapGet("/events", async (int? count, JobEvents events) =>
            TypedResults.Ok(await events.RecentAsync(Math.Clamp(count ?? 200, 1, JobEvents.Capacity))));

        jobs.MapGet("/dead-letters", async (int? count, DeadLetters deadLetters, CancellationToken cancellationToken) =>
            TypedResults.Ok(await deadLetters.PeekAsync(Math.Clamp(count ?? 100, 1, 1000), cancellationToken)));

        jobs.MapGet("/queues", GetQueuesAsync);

        // Only with the operator key: the AppHost's dashboard command sends it.
        jobs.MapPost("/dead-letters/requeue", async (DeadLetters deadLetters, CancellationToken cancellationToken) =>
            TypedResults.Ok(new RequeueResponse(await deadLetters.RequeueAsync(cancellationToken))))
            .RequireOperatorKey();
        return app;
    }

    private static async Task<Results<Ok<IReadOnlyList<QueueDepth>>, JsonHttpResult<DetailBody>>> GetQueuesAsync(
        RabbitMqConnection connection, IOptions<JobOptions> jobOptions, IOptions<FlushOptions> flushOptions, CancellationToken cancellationToken)
    {
        try
        {
            var queues = JobQueueDepths.Watched(jobOptions.Value, flushOptions.Value);
            return TypedResults.Ok(await JobQueueDepths.ReadAsync(connection, queues, cancellationToken));
        }
        catch (Exception ex) when (ex is BrokerUnreachableException or OperationInterruptedException or AlreadyClosedException or IOException or TimeoutException)
        {
            return TypedResults.Json(new DetailBody($"RabbitMQ does not answer: {ex.Message}"), statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    /// <remarks>The three reads go to different places (Redis, and two channels on RabbitMQ), so they run together.</remarks>
    private static async Task<HtmlPage> GetPageAsync(
        JobEvents events,
        DeadLetters deadLetters,
        RabbitMqConnection connection,
        IOptions<JobOptions> jobOptions,
        IOptions<FlushOptions> flushOptions,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var queues = ReadAsync(ct => JobQueueDepths.ReadAsync(connection, JobQueueDepths.Watched(jobOptions.Value, flushOptions.Value), ct), cancellationToken);
        var letters = ReadAsync(ct => deadLetters.PeekAsync(PageDeadLetters, ct), cancellationToken);
        var recent = ReadAsync(_ => events.RecentAsync(PageEvents), cancellationToken);
        var model = new JobsPageModel(time.GetUtcNow(), jobOptions.Value.MaxAttempts, await queues, await letters, await recent);
        return OperatorPages.Page(JobsPage.Render(model));
    }

    private static async Task<PageSection<T>> ReadAsync<T>(Func<CancellationToken, Task<IReadOnlyList<T>>> read, CancellationToken cancellationToken)
    {
        try
        {
            return new PageSection<T>(await read(cancellationToken));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Whatever a dependency throws, the page shows the rest and says what is missing.
            return PageSection<T>.Failed(ex.Message);
        }
    }
}

internal sealed record RequeueResponse(int Requeued);

internal sealed record DetailBody(string Detail);
