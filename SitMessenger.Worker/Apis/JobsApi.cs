using SitMessenger.Worker.Jobs;

namespace SitMessenger.Worker.Apis;

/// <summary>The jobs view's data (what Flower showed) and the operator's dead-letter controls.</summary>
internal static class JobsApi
{
    public static IEndpointRouteBuilder MapJobsApi(this IEndpointRouteBuilder app)
    {
        var jobs = app.MapGroup("/jobs");

        jobs.MapGet("/events", async (int? count, JobEvents events) =>
            TypedResults.Ok(await events.RecentAsync(Math.Clamp(count ?? 200, 1, JobEvents.Capacity))));

        jobs.MapGet("/dead-letters", async (int? count, DeadLetters deadLetters, CancellationToken cancellationToken) =>
            TypedResults.Ok(await deadLetters.PeekAsync(Math.Clamp(count ?? 100, 1, 1000), cancellationToken)));

        jobs.MapPost("/dead-letters/requeue", async (DeadLetters deadLetters, CancellationToken cancellationToken) =>
            TypedResults.Ok(new RequeueResponse(await deadLetters.RequeueAsync(cancellationToken))));
        return app;
    }
}

internal sealed record RequeueResponse(int Requeued);
