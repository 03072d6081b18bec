using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using SitMessenger.Chat.Integrations;
using SitMessenger.Chat.Messaging;

namespace Microsoft.Extensions.Hosting;

public static class RabbitMqClientRegistration
{
    /// <summary>
    /// The services' one way to register RabbitMQ: Aspire.RabbitMQ.Client's shared IConnection from
    /// <c>ConnectionStrings__{connectionName}</c>, with its health check and tracing, reached through <see cref="RabbitMqConnection"/>.
    /// </summary>
    public static IHostApplicationBuilder AddRabbitMqConnection(this IHostApplicationBuilder builder, string connectionName)
    {
        ArgumentNullException.ThrowIfNull(builder);

        var exportsTelemetry = builder.ExportsTelemetry();
        builder.AddRabbitMQClient(
            connectionName,
            settings =>
            {
                RequiredConnectionString.Check(settings.ConnectionString, connectionName);
                settings.DisableTracing |= !exportsTelemetry;
                // Opened on first use, not at start-up, so a service comes up (and reports itself unhealthy) while
                // RabbitMQ is still starting or down.
                settings.DisableAutoActivation = true;
                // One attempt per use: Aspire's retries block the opening thread for half a minute while the broker is
                // down (a request, a health probe), and every caller already tries again on its own schedule.
                settings.MaxConnectRetryCount = 0;
            },
            factory =>
            {
                // Each service is named in the broker's connection list.
                factory.ClientProvidedName = builder.Environment.ApplicationName;
                // After a broker restart the connection reopens itself with its channels, queues and consumers.
                factory.AutomaticRecoveryEnabled = true;
                factory.TopologyRecoveryEnabled = true;
            });
        builder.Services.AddSingleton(services => new RabbitMqConnection(
            services.GetRequiredService<IConnection>,
            new OutageLog("RabbitMQ", services.GetRequiredService<ILogger<RabbitMqConnection>>(), services.GetRequiredService<TimeProvider>())));
        builder.Services.TryAddSingleton(TimeProvider.System);
        return builder;
    }
}
