using System.Globalization;

namespace SitMessenger.AppHost.Hosting;

/// <summary>The fluent surface the AppHost's Program.cs uses, shaped like Aspire's <c>IResourceBuilder&lt;T&gt;</c>.</summary>
public sealed class ResourceBuilder<T>(DistributedApplicationBuilder applicationBuilder, T resource) where T : Resource
{
    public T Resource { get; } = resource;

    public DistributedApplicationBuilder ApplicationBuilder { get; } = applicationBuilder;

    public ResourceBuilder<T> WaitFor<TOther>(ResourceBuilder<TOther> other) where TOther : Resource
    {
        ArgumentNullException.ThrowIfNull(other);
        Resource.WaitsForHealthy.Add(other.Resource);
        return this;
    }

    public ResourceBuilder<T> WaitForCompletion<TOther>(ResourceBuilder<TOther> other) where TOther : Resource
    {
        ArgumentNullException.ThrowIfNull(other);
        Resource.WaitsForCompletion.Add(other.Resource);
        return this;
    }

    /// <summary>Injects <c>ConnectionStrings__{name}</c>, as Aspire does for databases, caches and brokers.</summary>
    public ResourceBuilder<T> WithReference<TOther>(ResourceBuilder<TOther> other) where TOther : Resource, IResourceWithConnectionString
    {
        ArgumentNullException.ThrowIfNull(other);
        var target = other.Resource;
        Resource.EnvironmentCallbacks.Add(env => env[$"ConnectionStrings__{target.Name}"] = target.ConnectionString);
        return this;
    }

    /// <summary>Injects <c>services__{name}__{endpoint}__{i}</c> for service discovery, one per replica endpoint.</summary>
    public ResourceBuilder<T> WithReference(ResourceBuilder<ProjectResource> other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var target = other.Resource;
        Resource.EnvironmentCallbacks.Add(env =>
        {
            for (var replica = 0; replica < target.Instances.Count; replica++)
            {
                foreach (var endpoint in target.Instances[replica].Endpoints)
                {
                    env[$"services__{target.Name}__{endpoint.Name}__{replica}"] = endpoint.Url.ToString().TrimEnd('/');
                }
            }
        });
        return this;
    }

    public ResourceBuilder<T> WithEnvironment(string name, string value)
    {
        Resource.EnvironmentCallbacks.Add(env => env[name] = value);
        return this;
    }

    public ResourceBuilder<T> WithEnvironment(string name, ResourceBuilder<ParameterResource> parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        Resource.EnvironmentCallbacks.Add(env => env[name] = parameter.Resource.Value);
        return this;
    }

    public ResourceBuilder<T> WithHttpEndpoint(int port = 0, string name = "http", bool isExternal = false) =>
        WithEndpoint(name, "http", port, isExternal);

    public ResourceBuilder<T> WithHttpsEndpoint(int port = 0, string name = "https", bool isExternal = false) =>
        WithEndpoint(name, "https", port, isExternal);

    public ResourceBuilder<T> WithEndpoint(string name, string scheme = "tcp", int port = 0, bool isExternal = false, bool isInternal = false)
    {
        var existing = Resource.Endpoints.FindIndex(e => e.Name == name);
        if (existing >= 0)
        {
            Resource.Endpoints.RemoveAt(existing);
        }

        Resource.Endpoints.Add(new EndpointAnnotation(name, scheme, port, isExternal, isInternal));
        return this;
    }

    /// <summary>Runs the service as several processes (load-balanced by the Gateway through service discovery).</summary>
    public ResourceBuilder<T> WithReplicas(int replicas)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(replicas, 1);
        if (Resource is not ProjectResource project)
        {
            throw new InvalidOperationException($"{Resource.Name}: only .NET services run as replicas here.");
        }

        project.Replicas = replicas;
        return this;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Resource.Kind} {Resource.Name}");
}
