using SitMessenger.Chat.Integrations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using StackExchange.Redis;

namespace Microsoft.Extensions.Hosting;

public static class RedisClientRegistration
{
    /// <summary>
    /// The services' one way to register Redis: Aspire.StackExchange.Redis's shared IConnectionMultiplexer from
    /// <c>ConnectionStrings__{connectionName}</c>, with its health check and tracing, set up for a cache that may be down.
    /// </summary>
    public static IHostApplicationBuilder AddRedisConnection(this IHostApplicationBuilder builder, string connectionName)
    {
        ArgumentNullException.ThrowIfNull(builder);

        var exportsTelemetry = builder.ExportsTelemetry();
        builder.AddRedisClient(
            connectionName,
            settings =>
            {
                RequiredConnectionString.Check(settings.ConnectionString, connectionName);
                settings.DisableTracing |= !exportsTelemetry;
            },
            options =>
            {
                // Redis is a cache here: a service must start and keep serving while it is down. (Aspire's default
                // too, but only where the connection string does not say otherwise.)
                options.AbortOnConnectFail = false;
                // While Redis is down, fail at once instead of queueing for seconds: every caller has a PostgreSQL fallback.
                options.BacklogPolicy = BacklogPolicy.FailFast;
            });
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddHostedService<RedisOutageWatcher>();
        return builder;
    }
}
