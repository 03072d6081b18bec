using Aspire.Hosting.ApplicationModel;

namespace SitMessenger.Hosting.LocalServers;

/// <summary>
/// A RabbitMQ node run from Debian's package, with its own Erlang port mapper and distribution ports (so two AppHosts
/// run side by side) and its database in <see cref="DataDirectory"/>.
/// </summary>
public sealed class LocalRabbitMQServerResource(string name, string dataDirectory, ParameterResource password)
    : ExecutableResource(name, "/bin/sh", dataDirectory), IResourceWithConnectionString
{
    internal const string PrimaryEndpointName = "tcp";
    internal const string ManagementEndpointName = "management";
    internal const string UserName = "sit";

    public string DataDirectory { get; } = dataDirectory;

    public ParameterResource PasswordParameter { get; } = password;

    public EndpointReference PrimaryEndpoint => new(this, PrimaryEndpointName);

    public bool ManagementPlugin { get; internal set; }

    /// <summary>The AMQP URI Aspire's RabbitMQ resource produces (the password is generated without URI-reserved characters).</summary>
    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"amqp://{UserName}:{PasswordParameter}@127.0.0.1:{PrimaryEndpoint.Property(EndpointProperty.Port)}/");
}
