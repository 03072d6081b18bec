using System.Globalization;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using SitMessenger.Hosting.LocalServers;

namespace Aspire.Hosting;

/// <summary>Redis from Debian's <c>redis-server</c> package as an Aspire resource: no container engine needed.</summary>
public static class LocalRedisBuilderExtensions
{
    private static readonly ServerBinary RedisServer = new("redis-server", "redis-server");

    /// <summary>
    /// Adds a Redis server on a loopback port with the generated password parameter <c>{name}-password</c> (as AddRedis)
    /// and append-only persistence in <paramref name="dataDirectory"/>.
    /// </summary>
    public static IResourceBuilder<LocalRedisResource> AddLocalRedis(this IDistributedApplicationBuilder builder, string name, string dataDirectory, int port = 0)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var redisServer = new ServerBinaries(builder.Configuration[ServerBinaries.SearchPathKey]).Find(RedisServer, name);
        var password = builder.AddResource(ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, $"{name}-password", special: false));
        var redis = new LocalRedisResource(name, Path.GetFullPath(dataDirectory), password.Resource);
        port = LoopbackPorts.OrFree(port);

        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(redis, async (_, ct) =>
            connectionString = await redis.ConnectionStringExpression.GetValueAsync(ct).ConfigureAwait(false));
        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().AddRedis(
            _ => connectionString ?? throw new InvalidOperationException("Connection string is unavailable"), name: healthCheckKey);

        return builder.AddResource(redis)
            .WithEndpoint(port: port, targetPort: port, name: LocalRedisResource.PrimaryEndpointName, scheme: "tcp", isProxied: false)
            .WithArgs(Path.Combine(redis.DataDirectory, "run.sh"))
            .WithIconName("Memory")
            .WithHealthCheck(healthCheckKey)
            .OnBeforeResourceStarted((resource, _, ct) => PrepareAsync(resource, redisServer, port, ct));
    }

    private static async Task PrepareAsync(LocalRedisResource redis, string redisServer, int port, CancellationToken cancellationToken)
    {
        // Its append-only file holds the cached (encrypted) messages and job state: for Redis' own account only.
        OwnerOnlyFolders.Create(redis.DataDirectory);
        // The password goes in a file only we can read, not on the command line where any local user could see it.
        var config = Path.Combine(redis.DataDirectory, "redis.conf");
        var password = await redis.PasswordParameter.GetValueAsync(cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(config, string.Create(CultureInfo.InvariantCulture, $"""
            port {port}
            bind 127.0.0.1
            protected-mode yes
            dir {redis.DataDirectory}
            requirepass {password}
            appendonly yes
            appendfsync everysec
            save ""
            daemonize no
            logfile ""

            """), cancellationToken).ConfigureAwait(false);
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await new LauncherScript(redisServer, [config]).WriteAsync(redis.DataDirectory, cancellationToken).ConfigureAwait(false);
    }
}
