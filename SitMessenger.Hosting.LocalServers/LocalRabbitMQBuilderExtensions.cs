using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using RabbitMQ.Client;
using SitMessenger.Hosting.LocalServers;

namespace Aspire.Hosting;

/// <summary>RabbitMQ from Debian's <c>rabbitmq-server</c> package as an Aspire resource: no container engine needed.</summary>
public static class LocalRabbitMQBuilderExtensions
{
    private const string ServiceAccount = "rabbitmq";
    // Stable, so the node finds its own database again after a restart (the database folder is named after it).
    private const string NodeName = "sit@localhost";
    private static readonly ServerBinary RabbitMqServer = new("rabbitmq-server", "rabbitmq-server");
    private static readonly HttpClient ManagementClient = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>
    /// Adds a RabbitMQ node on loopback ports, run as the <c>rabbitmq</c> account when the AppHost is root, with the
    /// generated password parameter <c>{name}-password</c> (as AddRabbitMQ) and its database in <paramref name="dataDirectory"/>.
    /// </summary>
    public static IResourceBuilder<LocalRabbitMQServerResource> AddLocalRabbitMQ(this IDistributedApplicationBuilder builder, string name, string dataDirectory, int port = 0)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var binaries = new ServerBinaries(builder.Configuration[ServerBinaries.SearchPathKey]);
        var rabbitmqServer = binaries.Find(RabbitMqServer, name);
        // /usr/sbin/rabbitmq-server only switches to the rabbitmq account (via su) and hides the output; run the real script.
        if (rabbitmqServer.StartsWith("/usr/sbin/", StringComparison.Ordinal) && File.Exists("/usr/lib/rabbitmq/bin/rabbitmq-server"))
        {
            rabbitmqServer = "/usr/lib/rabbitmq/bin/rabbitmq-server";
        }

        var epmd = binaries.TryFind("epmd")
            ?? (Directory.Exists("/usr/lib/erlang") ? Directory.EnumerateFiles("/usr/lib/erlang", "epmd", SearchOption.AllDirectories).FirstOrDefault() : null)
            ?? throw new ServerBinaryNotFoundException(name, new ServerBinary("epmd", "erlang-base"), ["PATH", "/usr/lib/erlang"]);

        var password = builder.AddResource(ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, $"{name}-password", special: false));
        var rabbit = new LocalRabbitMQServerResource(name, Path.GetFullPath(dataDirectory), password.Resource);
        var ports = new RabbitPorts(LoopbackPorts.OrFree(port), LoopbackPorts.GetFreePort(), LoopbackPorts.GetFreePort(), LoopbackPorts.GetFreePort());

        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(rabbit, async (_, ct) =>
            connectionString = await rabbit.ConnectionStringExpression.GetValueAsync(ct).ConfigureAwait(false));
        var healthCheckKey = $"{name}_check";
        IConnection? probeConnection = null;
        builder.Services.AddHealthChecks().AddRabbitMQ(async _ =>
            probeConnection ??= await new ConnectionFactory { Uri = new Uri(connectionString!), RequestedConnectionTimeout = TimeSpan.FromSeconds(3) }
                .CreateConnectionAsync().ConfigureAwait(false),
            name: healthCheckKey);

        var root = rabbit.DataDirectory;
        // The node would start Erlang's port mapper itself as a daemon that outlives it (and the AppHost). Run as a resource
        // of its own, DCP stops it with the node's AppHost however that ends; the node finds it on ERL_EPMD_PORT.
        var portMapper = builder.AddExecutable($"{name}-epmd", epmd, "/",
                "-port", ports.PortMapper.ToString(CultureInfo.InvariantCulture), "-address", "127.0.0.1")
            .WithIconName("PlugConnected");
        return builder.AddResource(rabbit)
            .WaitFor(portMapper)
            .WithEndpoint(port: ports.Amqp, targetPort: ports.Amqp, name: LocalRabbitMQServerResource.PrimaryEndpointName, scheme: "tcp", isProxied: false)
            .WithArgs(Path.Combine(root, "run.sh"))
            .WithEnvironment(context =>
            {
                var environment = context.EnvironmentVariables;
                environment["HOME"] = Path.Combine(root, "home");
                environment["RABBITMQ_NODENAME"] = NodeName;
                environment["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1";
                environment["RABBITMQ_NODE_PORT"] = ports.Amqp.ToString(CultureInfo.InvariantCulture);
                environment["RABBITMQ_DIST_PORT"] = ports.Distribution.ToString(CultureInfo.InvariantCulture);
                environment["ERL_EPMD_PORT"] = ports.PortMapper.ToString(CultureInfo.InvariantCulture);
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
            })
            .WithAnnotation(ports)
            .WithIconName("Mailbox")
            .WithHealthCheck(healthCheckKey)
            .OnBeforeResourceStarted((resource, _, ct) => PrepareAsync(resource, rabbitmqServer, ct));
    }

    /// <summary>Enables the management plugin (HTTP API and UI) on its own loopback port; health then also asks its API.</summary>
    public static IResourceBuilder<LocalRabbitMQServerResource> WithManagementPlugin(this IResourceBuilder<LocalRabbitMQServerResource> rabbit)
    {
        ArgumentNullException.ThrowIfNull(rabbit);
        rabbit.Resource.ManagementPlugin = true;
        var ports = rabbit.Resource.Annotations.OfType<RabbitPorts>().Single();
        var healthCheckKey = $"{rabbit.Resource.Name}_management_check";
        rabbit.ApplicationBuilder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckKey, _ => new ManagementApiHealthCheck(rabbit.Resource, ports.Management), failureStatus: null, tags: null));
        return rabbit
            .WithHttpEndpoint(port: ports.Management, targetPort: ports.Management, name: LocalRabbitMQServerResource.ManagementEndpointName, isProxied: false)
            .WithHealthCheck(healthCheckKey);
    }

    private static async Task PrepareAsync(LocalRabbitMQServerResource rabbit, string rabbitmqServer, CancellationToken cancellationToken)
    {
        var ports = rabbit.Annotations.OfType<RabbitPorts>().Single();
        var root = rabbit.DataDirectory;
        OwnerOnlyFolders.Create(root);
        foreach (var folder in new[] { "home", "mnesia", "log" })
        {
            OwnerOnlyFolders.Create(Path.Combine(root, folder));
        }

        var password = await rabbit.PasswordParameter.GetValueAsync(cancellationToken).ConfigureAwait(false);
        var config = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"""
            listeners.tcp.default = 127.0.0.1:{ports.Amqp}
            default_user = {LocalRabbitMQServerResource.UserName}
            default_pass = {password}
            loopback_users = none
            log.console = true
            log.console.level = info
            log.file = false

            """));
        if (rabbit.ManagementPlugin)
        {
            config.Append(CultureInfo.InvariantCulture, $"management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = {ports.Management}\n");
        }

        var configPath = Path.Combine(root, "rabbitmq.conf");
        await File.WriteAllTextAsync(configPath, config.ToString(), cancellationToken).ConfigureAwait(false);
        File.SetUnixFileMode(configPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await File.WriteAllTextAsync(Path.Combine(root, "enabled_plugins"), rabbit.ManagementPlugin ? "[rabbitmq_management].\n" : "[].\n", cancellationToken).ConfigureAwait(false);

        var launcher = new LauncherScript(rabbitmqServer, []) { Account = ServiceAccount };
        await launcher.WriteAsync(root, cancellationToken).ConfigureAwait(false);
        await ServiceAccounts.GiveToAsync(root, ServiceAccount, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The node's ports, chosen once when the model is built so that restarts keep them.</summary>
    private sealed record RabbitPorts(int Amqp, int Management, int Distribution, int PortMapper) : IResourceAnnotation;

    private sealed class ManagementApiHealthCheck(LocalRabbitMQServerResource rabbit, int port) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                var password = await rabbit.PasswordParameter.GetValueAsync(cancellationToken).ConfigureAwait(false);
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/api/overview"));
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                    Convert.ToBase64String(Encoding.UTF8.GetBytes($"{LocalRabbitMQServerResource.UserName}:{password}")));
                using var response = await ManagementClient.SendAsync(request, cancellationToken).ConfigureAwait(false);
                return response.IsSuccessStatusCode
                    ? HealthCheckResult.Healthy()
                    : HealthCheckResult.Unhealthy($"management API answered {(int)response.StatusCode}");
            }
            catch (HttpRequestException ex)
            {
                return HealthCheckResult.Unhealthy("management API: " + ex.Message);
            }
        }
    }
}
