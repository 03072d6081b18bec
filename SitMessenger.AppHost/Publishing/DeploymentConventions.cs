using System.Globalization;

namespace SitMessenger.AppHost.Publishing;

/// <summary>What both outputs give a resource beyond the model, written once.</summary>
internal static class DeploymentConventions
{
    public const string DashboardName = "aspire-dashboard";

    public const string TempPath = "/tmp";

    /// <summary>ServiceDefaults' readiness (dependencies included) and liveness endpoints.</summary>
    public const string ReadinessPath = "/health";

    public const string LivenessPath = "/alive";

    /// <summary>
    /// What a local run gets from Aspire and a deployment must say itself: telemetry to the dashboard container, grouped
    /// under the resource's name.
    /// </summary>
    public static IEnumerable<KeyValuePair<string, DeployedValue>> Environment(DeployedResource resource, DeploymentOptions options)
    {
        if (!resource.IsProject)
        {
            return resource.Environment;
        }

        var otlp = string.Create(CultureInfo.InvariantCulture, $"http://{DashboardName}:{options.DashboardOtlpPort}");
        KeyValuePair<string, DeployedValue>[] telemetry =
        [
            new("OTEL_EXPORTER_OTLP_ENDPOINT", DeployedValue.Literal(otlp)),
            new("OTEL_EXPORTER_OTLP_PROTOCOL", DeployedValue.Literal("grpc")),
            new("OTEL_SERVICE_NAME", DeployedValue.Literal(resource.Name)),
        ];
        return resource.Environment.Concat(telemetry.Where(variable => resource.Environment.All(e => e.Key != variable.Key)));
    }

    /// <summary>How an image's server says it is ready, in its own tools (Aspire checks them from the AppHost instead).</summary>
    public static string[]? ServerHealthCommand(DeployedResource server) =>
        server.Image switch
        {
            var image when image.Contains("/postgres:", StringComparison.Ordinal) => ["pg_isready", "-U", "postgres"],
            var image when image.Contains("/redis:", StringComparison.Ordinal) => ["sh", "-c", "redis-cli -a \"$REDIS_PASSWORD\" --no-auth-warning ping | grep -q PONG"],
            var image when image.Contains("/rabbitmq:", StringComparison.Ordinal) => ["rabbitmq-diagnostics", "-q", "ping"],
            _ => null,
        };

    public static int Replicas(DeployedResource resource, DeploymentOptions options) =>
        resource.Replicas ?? options.DefaultReplicas;
}
