using Aspire.Hosting.ApplicationModel;

namespace SitMessenger.AppHost.Extensions;

/// <summary>A service run as several processes; the Gateway balances over them itself.</summary>
internal sealed record ReplicatedService(string Name, IReadOnlyList<IResourceBuilder<ProjectResource>> Replicas);

internal static class ReplicatedServiceExtensions
{
    /// <summary>
    /// Adds <paramref name="replicas"/> processes of one service. Locally each is a resource of its own (<c>api</c>,
    /// <c>api-1</c>, ...) on its own port, all named in service discovery: Aspire's WithReplicas would put DCP's proxy in
    /// front, which balances per TCP connection, so the Gateway's pooled connections would all reach one replica and
    /// its health-aware balancing would see none of them. A deployment gets one resource with that many replicas.
    /// </summary>
    public static ReplicatedService AddReplicatedService<TProject>(
        this IDistributedApplicationBuilder builder, string name, int replicas,
        Func<IResourceBuilder<ProjectResource>, IResourceBuilder<ProjectResource>> configure)
        where TProject : IProjectMetadata, new()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(replicas, 1);
        if (builder.ExecutionContext.IsPublishMode)
        {
            return new ReplicatedService(name, [configure(builder.AddService<TProject>(name, replicas))]);
        }

        var instances = Enumerable.Range(0, replicas)
            .Select(index => configure(builder.AddService<TProject>(index == 0 ? name : $"{name}-{index}"))
                // Telemetry groups the replicas as one service.
                .WithEnvironment("OTEL_SERVICE_NAME", name))
            .ToList();
        return new ReplicatedService(name, instances);
    }

    /// <summary>Names every replica in the client's service discovery (<c>services__{name}__http__{i}</c>) and waits for them.</summary>
    public static IResourceBuilder<ProjectResource> WithReference(this IResourceBuilder<ProjectResource> client, ReplicatedService service)
    {
        if (service.Replicas.Count == 1 && service.Replicas[0].Resource.Name == service.Name)
        {
            return client.WithReference(service.Replicas[0]).WaitFor(service.Replicas[0]);
        }

        for (var index = 0; index < service.Replicas.Count; index++)
        {
            var replica = service.Replicas[index];
            client.WithEnvironment($"services__{service.Name}__http__{index}", replica.GetEndpoint("http")).WaitFor(replica);
        }

        return client;
    }
}
