using SitMessenger.Scheduler.Scheduling;

namespace SitMessenger.Scheduler.Apis;

/// <summary>The dashboard's view of the schedule, and its "run now" button.</summary>
internal static class ScheduleApi
{
    public const string NotFoundDetail = "Not found.";

    public static IEndpointRouteBuilder MapScheduleApi(this IEndpointRouteBuilder app)
    {
        var schedule = app.MapGroup("/schedule").WithTags("Schedule");

        schedule.MapGet("/", GetScheduleAsync);
        schedule.MapPost("/{name}/run", RunNowAsync);
        return app;
    }

    private static async Task<Ok<ScheduleResponse>> GetScheduleAsync(ScheduleStatus status, CancellationToken cancellationToken)
    {
        var snapshot = await status.GetAsync(cancellationToken);
        return TypedResults.Ok(new ScheduleResponse(
            snapshot.Leader,
            snapshot.IsLeader,
            snapshot.Instance,
            [.. snapshot.Jobs.Select(s => new ScheduledJobResponse(
                s.Job.Name, s.Job.Type, s.Job.Cron, s.Job.Enabled, s.LastRun.LastRun, s.LastRun.LastResult, s.LastRun.LastJobId, s.NextRun))]));
    }

    /// <summary>Any replica may do this: a hand-started run is not an occurrence, so it needs no leader and no claim.</summary>
    private static async Task<Results<Accepted<RunResponse>, NotFound<DetailBody>, JsonHttpResult<DetailBody>>> RunNowAsync(
        string name, JobCatalog catalog, JobDispatcher dispatcher, CancellationToken cancellationToken)
    {
        if (catalog.Find(name) is not { } job)
        {
            return TypedResults.NotFound(new DetailBody(NotFoundDetail));
        }

        var result = await dispatcher.RunNowAsync(job, cancellationToken);
        return result.Error is null
            ? TypedResults.Accepted((string?)null, new RunResponse(result.JobId))
            : TypedResults.Json(new DetailBody($"The job could not be queued: RabbitMQ is unavailable ({result.Error})."),
                statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}

internal sealed record ScheduleResponse(string? Leader, bool IsLeader, string Instance, IReadOnlyList<ScheduledJobResponse> Jobs);

internal sealed record ScheduledJobResponse(
    string Name,
    string Type,
    string Cron,
    bool Enabled,
    DateTimeOffset? LastRun,
    string? LastResult,
    string? LastJobId,
    DateTimeOffset? NextRun);

internal sealed record RunResponse(string JobId);

internal sealed record DetailBody(string Detail);
