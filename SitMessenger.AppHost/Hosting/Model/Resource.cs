namespace SitMessenger.AppHost.Hosting;

/// <summary>Anything the AppHost runs or hands to others: a server, a database, a .NET service, a parameter.</summary>
public abstract class Resource(string name)
{
    public string Name { get; } = name;

    /// <summary>Resources that must be healthy before this one starts.</summary>
    internal List<Resource> WaitsForHealthy { get; } = [];

    /// <summary>Resources that must have run to completion (exit code 0) before this one starts.</summary>
    internal List<Resource> WaitsForCompletion { get; } = [];

    /// <summary>Environment variables given to this resource's process, computed once ports and secrets are known.</summary>
    internal List<Action<IDictionary<string, string>>> EnvironmentCallbacks { get; } = [];

    internal List<EndpointAnnotation> Endpoints { get; } = [];

    public abstract string Kind { get; }

    public override string ToString() => Name;
}

/// <summary>A resource that others reach through a connection string (<c>ConnectionStrings__{name}</c>).</summary>
public interface IResourceWithConnectionString
{
    string Name { get; }

    string ConnectionString { get; }
}

/// <summary>A network endpoint of a resource. Port 0 until the AppHost allocates a free one at build time.</summary>
public sealed class EndpointAnnotation(string name, string scheme, int port, bool isExternal, bool isInternal = false)
{
    /// <summary>Plumbing between a server's own processes (Erlang distribution): not shown, not referenced.</summary>
    public bool IsInternal { get; } = isInternal;

    public string Name { get; } = name;

    public string Scheme { get; } = scheme;

    public int Port { get; internal set; } = port;

    /// <summary>External endpoints are the ones a person opens (Gateway, dashboards); they bind "localhost".</summary>
    public bool IsExternal { get; } = isExternal;

    public string Host => IsExternal ? "localhost" : "127.0.0.1";

    public Uri Url => new($"{Scheme}://{Host}:{Port}");
}
