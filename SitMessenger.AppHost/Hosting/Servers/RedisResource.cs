using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace SitMessenger.AppHost.Hosting;

/// <summary>A local Redis server with a password and append-only persistence in the state folder.</summary>
public sealed class RedisResource(string name, ParameterResource password) : Resource(name), IRunnableResource, IResourceWithConnectionString
{
    private static readonly RequiredBinary RedisServer = new("redis-server", "redis-server");

    public override string Kind => "Redis";

    public ParameterResource Password { get; } = password;

    public int Port => Endpoints[0].Port;

    public string ConnectionString => $"127.0.0.1:{Port},password={Password.Value}";

    IReadOnlyList<RequiredBinary> IRunnableResource.RequiredBinaries => [RedisServer];

    PosixSignal IRunnableResource.StopSignal => PosixSignal.SIGTERM;

    bool IRunnableResource.RunsToCompletion => false;

    Task IRunnableResource.PrepareAsync(RunContext context, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(context.DataDirectoryFor(Name));
        // The password goes in a config file, not on the command line where any local user could read it.
        var config = Path.Combine(context.DataDirectoryFor(Name), "redis.conf");
        File.WriteAllText(config, string.Create(CultureInfo.InvariantCulture, $"""
            port {Port}
            bind 127.0.0.1
            protected-mode yes
            dir {context.DataDirectoryFor(Name)}
            requirepass {Password.Value}
            appendonly yes
            appendfsync everysec
            save ""
            daemonize no
            logfile ""

            """));
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return Task.CompletedTask;
    }

    ProcessStartInfo IRunnableResource.CreateStartInfo(RunContext context) =>
        new(context.Binaries.Find(RedisServer, Name))
        {
            ArgumentList = { Path.Combine(context.DataDirectoryFor(Name), "redis.conf") },
            WorkingDirectory = context.DataDirectoryFor(Name),
        };

    async Task<HealthStatus> IRunnableResource.CheckHealthAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", Port, cancellationToken);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"AUTH {Password.Value}\r\nPING\r\n"), cancellationToken);
            var buffer = new byte[256];
            var received = new StringBuilder();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            while (!received.ToString().Contains("PONG", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer, timeout.Token);
                if (read == 0)
                {
                    return HealthStatus.Unhealthy("connection closed: " + received);
                }

                received.Append(Encoding.ASCII.GetString(buffer, 0, read));
                if (received.ToString().StartsWith('-'))
                {
                    // Still loading the append-only file answers -LOADING; a wrong password -WRONGPASS.
                    return HealthStatus.Unhealthy(received.ToString().Trim());
                }
            }

            return HealthStatus.Healthy;
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return HealthStatus.Unhealthy(ex.Message);
        }
    }

    Task IRunnableResource.AfterStopAsync(RunContext context) => Task.CompletedTask;
}

public static class RedisBuilderExtensions
{
    public static ResourceBuilder<RedisResource> AddRedis(this DistributedApplicationBuilder builder, string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var password = builder.AddParameter($"{name}-password", secret: true);
        return builder.AddResource(new RedisResource(name, password.Resource)).WithEndpoint("tcp");
    }
}
