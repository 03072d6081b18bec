using System.Diagnostics;

namespace SitMessenger.Worker.Jobs;

internal static class WorkerTelemetry
{
    public const string Name = "SitMessenger.Worker";

    public static ActivitySource Source { get; } = new(Name);
}
