using Aspire.Hosting.ApplicationModel;

namespace SitMessenger.Hosting.LocalServers;

/// <summary>A Redis server run from the machine's binary, with a password and append-only persistence in its folder.</summary>
public sealed class LocalRedisResource(string name, string dataDirectory, ParameterResource password)
    : ExecutableResource(name, "/bin/sh", dataDirectory), IResourceWithConnectionString
{
    internal const string PrimaryEndpointName = "tcp";

    public string DataDirectory { get; } = dataDirectory;

    public ParameterResource PasswordParameter { get; } = password;

    public EndpointReference PrimaryEndpoint => new(this, PrimaryEndpointName);

    /// <summary>StackExchange.Redis's format, as Aspire's Redis resource writes it.</summary>
    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"127.0.0.1:{PrimaryEndpoint.Property(EndpointProperty.Port)},password={PasswordParameter}");
}
