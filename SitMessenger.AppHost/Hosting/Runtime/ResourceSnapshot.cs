namespace SitMessenger.AppHost.Hosting;

public enum ResourceState
{
    NotStarted,
    Waiting,
    Starting,
    Running,
    Healthy,
    Unhealthy,
    Restarting,
    Finished,
    Exited,
    FailedToStart,
    Stopping,
    Stopped,
}

/// <summary>What the dashboard and the tests see of a resource at one moment.</summary>
public sealed record ResourceSnapshot(
    string Name,
    string Kind,
    ResourceState State,
    int? ProcessId,
    int Restarts,
    int? ExitCode,
    IReadOnlyList<string> Endpoints,
    string? Detail);
