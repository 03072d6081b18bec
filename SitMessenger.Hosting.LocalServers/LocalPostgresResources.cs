using Aspire.Hosting.ApplicationModel;

namespace SitMessenger.Hosting.LocalServers;

/// <summary>
/// A PostgreSQL server run from the machine's binaries, its cluster in <see cref="DataDirectory"/>. Its connection
/// string is the one Aspire's PostgreSQL container resource produces, so services cannot tell the two apart.
/// </summary>
public sealed class LocalPostgresServerResource(string name, string dataDirectory, ParameterResource password)
    : ExecutableResource(name, "/bin/sh", dataDirectory), IResourceWithConnectionString
{
    internal const string PrimaryEndpointName = "tcp";
    internal const string SuperUser = "postgres";

    private readonly Dictionary<string, string> _databases = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The folder holding the cluster (in <c>data/</c>), its launcher and its first-run files.</summary>
    public string DataDirectory { get; } = dataDirectory;

    public ParameterResource PasswordParameter { get; } = password;

    public EndpointReference PrimaryEndpoint => new(this, PrimaryEndpointName);

    /// <summary>PostgreSQL's own default (100) is too few once several services keep pools.</summary>
    public int MaxConnections { get; internal set; } = 100;

    /// <summary>Resource name to database name, created when missing once the server is ready.</summary>
    public IReadOnlyDictionary<string, string> Databases => _databases;

    // Literal loopback: the server listens on 127.0.0.1 only, and "localhost" would make Npgsql try ::1 first.
    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host=127.0.0.1;Port={PrimaryEndpoint.Property(EndpointProperty.Port)};Username={SuperUser};Password={PasswordParameter}");

    internal void AddDatabase(string name, string databaseName) => _databases.TryAdd(name, databaseName);
}

/// <summary>A database on a <see cref="LocalPostgresServerResource"/>; its connection string names it.</summary>
public sealed class LocalPostgresDatabaseResource(string name, string databaseName, LocalPostgresServerResource parent)
    : Resource(name), IResourceWithParent<LocalPostgresServerResource>, IResourceWithConnectionString
{
    public string DatabaseName { get; } = databaseName;

    public LocalPostgresServerResource Parent { get; } = parent;

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"{Parent};Database={DatabaseName}");
}
