using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace SitMessenger.AppHost.Hosting;

/// <summary>
/// A local RabbitMQ node from Debian's package, with its own Erlang port mapper and distribution port so that
/// two AppHosts can run side by side, and its database in the state folder.
/// </summary>
public sealed class RabbitMQServerResource(string name, ParameterResource password) : Resource(name), IRunnableResource, IResourceWithConnectionString
{
    private const string UserName = "sit";
    private const string ServiceAccount = "rabbitmq";
    // Stable, so the node finds its own database again after a restart (the database folder is named after it).
    private const string NodeName = "sit@localhost";
    private static readonly RequiredBinary RabbitMqServer = new("rabbitmq-server", "rabbitmq-server");
    private static readonly HttpClient ManagementClient = new() { Timeout = TimeSpan.FromSeconds(5) };

    public override string Kind => "RabbitMQ";

    public ParameterResource Password { get; } = password;

    public bool ManagementPlugin { get; internal set; }

    private int Port => Endpoints.First(e => e.Name == "tcp").Port;

    private int EndpointPort(string endpoint) => Endpoints.First(e => e.Name == endpoint).Port;

    public string ConnectionString => $"amqp://{UserName}:{Password.Value}@127.0.0.1:{Port}/";

    IReadOnlyList<RequiredBinary> IRunnableResource.RequiredBinaries => [RabbitMqServer];

    // Debian's start script forwards SIGTERM to the Erlang VM and waits for the node to shut down.
    PosixSignal IRunnableResource.StopSignal => PosixSignal.SIGTERM;

    bool IRunnableResource.RunsToCompletion => false;

    async Task IRunnableResource.PrepareAsync(RunContext context, CancellationToken cancellationToken)
    {
        var root = context.DataDirectoryFor(Name);
        Directory.CreateDirectory(Path.Combine(root, "home"));
        Directory.CreateDirectory(Path.Combine(root, "mnesia"));
        Directory.CreateDirectory(Path.Combine(root, "log"));

        var config = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"""
            listeners.tcp.default = 127.0.0.1:{Port}
            default_user = {UserName}
            default_pass = {Password.Value}
            loopback_users = none
            log.console = true
            log.console.level = info
            log.file = false

            """));
        if (ManagementPlugin)
        {
            config.Append(CultureInfo.InvariantCulture, $"management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = {EndpointPort("management")}\n");
        }

        var configPath = Path.Combine(root, "rabbitmq.conf");
        await File.WriteAllTextAsync(configPath, config.ToString(), cancellationToken);
        File.SetUnixFileMode(configPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await File.WriteAllTextAsync(Path.Combine(root, "enabled_plugins"), ManagementPlugin ? "[rabbitmq_management].\n" : "[].\n", cancellationToken);
        await UnixAccounts.GiveToAsync(root, ServiceAccount, Name, cancellationToken);
    }

    ProcessStartInfo IRunnableResource.CreateStartInfo(RunContext context)
    {
        var root = context.DataDirectoryFor(Name);
        var binary = context.Binaries.Find(RabbitMqServer, Name);
        // /usr/sbin/rabbitmq-server only switches to the rabbitmq account (via su) and hides the output; run the real script.
        var script = File.Exists("/usr/lib/rabbitmq/bin/rabbitmq-server") && binary.StartsWith("/usr/sbin/", StringComparison.Ordinal)
            ? "/usr/lib/rabbitmq/bin/rabbitmq-server"
            : binary;
        var startInfo = new ProcessStartInfo(script)
        {
            WorkingDirectory = root,
            UserName = UnixAccounts.IsRoot ? ServiceAccount : null,
        };
        var environment = startInfo.Environment;
        environment["HOME"] = Path.Combine(root, "home");
        environment["RABBITMQ_NODENAME"] = NodeName;
        environment["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1";
        environment["RABBITMQ_NODE_PORT"] = Port.ToString(CultureInfo.InvariantCulture);
        environment["RABBITMQ_DIST_PORT"] = EndpointPort("dist").ToString(CultureInfo.InvariantCulture);
        environment["ERL_EPMD_PORT"] = EndpointPort("epmd").ToString(CultureInfo.InvariantCulture);
        environment["ERL_EPMD_ADDRESS"] = "127.0.0.1";
        // Also keeps the short-lived Erlang VM that starts the port mapper off every interface but loopback.
        environment["ERL_ZFLAGS"] = "-kernel inet_dist_use_interface {127,0,0,1}";
        environment["RABBITMQ_CONFIG_FILE"] = Path.Combine(root, "rabbitmq.conf");
        environment["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(root, "enabled_plugins");
        environment["RABBITMQ_MNESIA_BASE"] = Path.Combine(root, "mnesia");
        environment["RABBITMQ_LOG_BASE"] = Path.Combine(root, "log");
        environment["RABBITMQ_PID_FILE"] = Path.Combine(root, "rabbitmq.pid");
        environment["RABBITMQ_LOGS"] = "-";
        environment["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(root, "rabbitmq-env.conf");
        return startInfo;
    }

    async Task<HealthStatus> IRunnableResource.CheckHealthAsync(CancellationToken cancellationToken)
    {
        try
        {
            var factory = new ConnectionFactory { Uri = new Uri(ConnectionString), RequestedConnectionTimeout = TimeSpan.FromSeconds(3) };
            await using var connection = await factory.CreateConnectionAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is BrokerUnreachableException or IOException or OperationInterruptedException or TimeoutException)
        {
            return HealthStatus.Unhealthy("AMQP: " + ex.Message);
        }

        if (!ManagementPlugin)
        {
            return HealthStatus.Healthy;
        }

        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Endpoints.First(e => e.Name == "management").Url, "/api/overview"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{UserName}:{Password.Value}")));
            using var response = await ManagementClient.SendAsync(request, cancellationToken);
            return response.IsSuccessStatusCode
                ? HealthStatus.Healthy
                : HealthStatus.Unhealthy($"management API answered {(int)response.StatusCode}");
        }
        catch (HttpRequestException ex)
        {
            return HealthStatus.Unhealthy("management API: " + ex.Message);
        }
    }

    /// <summary>The Erlang port mapper daemonizes and outlives the node; stop ours (it serves only this node).</summary>
    async Task IRunnableResource.AfterStopAsync(RunContext context)
    {
        var epmd = context.Binaries.TryFind("epmd") ?? Directory.EnumerateFiles("/usr/lib/erlang", "epmd", SearchOption.AllDirectories).FirstOrDefault();
        if (epmd is null)
        {
            return;
        }

        var kill = new ProcessStartInfo(epmd) { ArgumentList = { "-port", EndpointPort("epmd").ToString(CultureInfo.InvariantCulture), "-kill" } };
        try
        {
            await RunContext.RunToCompletionAsync(Name, kill, CancellationToken.None);
        }
        catch (ResourceStartException)
        {
            // Not running (the node never got that far): nothing to stop.
        }
    }
}

public static class RabbitMQBuilderExtensions
{
    public static ResourceBuilder<RabbitMQServerResource> AddRabbitMQ(this DistributedApplicationBuilder builder, string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var password = builder.AddParameter($"{name}-password", secret: true);
        return builder.AddResource(new RabbitMQServerResource(name, password.Resource))
            .WithEndpoint("tcp")
            .WithEndpoint("dist", isInternal: true)
            .WithEndpoint("epmd", isInternal: true);
    }

    public static ResourceBuilder<RabbitMQServerResource> WithManagementPlugin(this ResourceBuilder<RabbitMQServerResource> rabbit)
    {
        ArgumentNullException.ThrowIfNull(rabbit);
        rabbit.Resource.ManagementPlugin = true;
        return rabbit.WithHttpEndpoint(name: "management");
    }
}
