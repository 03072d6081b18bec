using SitMessenger.Scheduler.Scheduling;

namespace SitMessenger.Scheduler.Apis;

/// <summary>
/// The schedule as JSON and as the page the Aspire dashboard links to, and "run now" (the AppHost's dashboard
/// command). The Scheduler serves it because it owns the schedule and its history.
/// </summary>
internal static class ScheduleApi
{
    public const string NotFoundDetail = "Not found.";

    public static IEndpointRouteBuilder MapScheduleApi(this IEndpointRouteBuilder app)
    {
        var schedule = app.MapGroup("/schedule").WithTags("Schedule");

        schedule.MapGet("/", GetScheduleAsync);
        schedule.MapGet("/view", GetPageAsync);
        // Only with the operator key: the AppHost's dashboard command sends it.
        schedule.MapPost("/{name}/run", RunNowAsync).RequireOperatorKey();
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

    private static async Task<HtmlPage> GetPageAsync(ScheduleStatus status, TimeProvider time, CancellationToken cancellationToken)
    {
        // The snapshot reads Redis once for every job; without Redis it still has the schedule, minus leader and history.
        var snapshot = await status.GetAsync(cancellationToken);
        return OperatorPages.Page(SchedulePage.Render(snapshot, time.GetUtcNow()));
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
