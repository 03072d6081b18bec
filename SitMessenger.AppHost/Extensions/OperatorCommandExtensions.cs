using Aspire.Hosting.ApplicationModel;
using SitMessenger.Chat.Messaging;

namespace SitMessenger.AppHost.Extensions;

/// <summary>
/// What Flower offered, in the Aspire dashboard: each service's operator page linked from its resource, and its actions
/// as resource commands that answer success or say what failed.
/// </summary>
internal static class OperatorCommandExtensions
{
    private static readonly HttpClient Operator = new() { Timeout = TimeSpan.FromSeconds(15) };

    /// <summary>The Worker: its jobs page (events, dead letters, queue depths) and "Requeue dead letters".</summary>
    public static IResourceBuilder<ProjectResource> WithJobOperations(this IResourceBuilder<ProjectResource> worker, IResourceBuilder<ParameterResource> operatorKey) =>
        worker
            .WithEnvironment(OperatorKeySetting, operatorKey)
            .WithOperatorPage("/jobs", "Jobs (events, dead letters, queues)")
            .WithCommand("requeue-dead-letters", "Requeue dead letters",
                context => PostAsync(worker.Resource, "/jobs/dead-letters/requeue", operatorKey.Resource, context.CancellationToken),
                new CommandOptions
                {
                    Description = "Puts every job of sit.dead-letters back on its queue.",
                    ConfirmationMessage = "Requeue every dead-lettered job?",
                    IconName = "ArrowRepeatAll",
                    UpdateState = WhenRunning,
                });

    /// <summary>The Scheduler: its schedule page and one "Run … now" command per recurring job.</summary>
    public static IResourceBuilder<ProjectResource> WithScheduleOperations(this IResourceBuilder<ProjectResource> scheduler, IResourceBuilder<ParameterResource> operatorKey)
    {
        scheduler.WithEnvironment(OperatorKeySetting, operatorKey).WithOperatorPage("/schedule/view", "Schedule");
        foreach (var job in JobTypes.Recurring)
        {
            scheduler.WithCommand($"run-{job}", $"Run {job} now",
                context => PostAsync(scheduler.Resource, $"/schedule/{Uri.EscapeDataString(job)}/run", operatorKey.Resource, context.CancellationToken),
                new CommandOptions { Description = $"Publishes the {job} job now, outside its schedule.", IconName = "Play", UpdateState = WhenRunning });
        }

        return scheduler;
    }

    /// <summary>The services' <c>Operator:Key</c> (OperatorOptions in ServiceDefaults).</summary>
    private const string OperatorKeySetting = "Operator__Key";

    private static IResourceBuilder<ProjectResource> WithOperatorPage(this IResourceBuilder<ProjectResource> service, string path, string displayText) =>
        service.WithUrls(context =>
        {
            if (context.Urls.FirstOrDefault(u => u.Endpoint?.EndpointName == "http") is { } http)
            {
                context.Urls.Add(new ResourceUrlAnnotation { Url = http.Url.TrimEnd('/') + path, DisplayText = displayText, Endpoint = http.Endpoint });
            }
        });

    private static ResourceCommandState WhenRunning(UpdateCommandStateContext context) =>
        context.ResourceSnapshot.State?.Text == KnownResourceStates.Running ? ResourceCommandState.Enabled : ResourceCommandState.Disabled;

    private static async Task<ExecuteCommandResult> PostAsync(ProjectResource service, string path, ParameterResource operatorKey, CancellationToken cancellationToken)
    {
        var endpoint = service.GetEndpoint("http");
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri(endpoint.Url), path));
            request.Headers.Authorization = new("Bearer", await operatorKey.GetValueAsync(cancellationToken));
            using var response = await Operator.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            return response.IsSuccessStatusCode
                ? CommandResults.Success()
                : CommandResults.Failure($"{service.Name} answered {(int)response.StatusCode}: {body}");
        }
        catch (HttpRequestException ex)
        {
            return CommandResults.Failure($"{service.Name} does not answer at {endpoint.Url}: {ex.Message}");
        }
    }
}
