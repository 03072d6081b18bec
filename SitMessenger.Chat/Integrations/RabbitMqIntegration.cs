using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry.Trace;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using SitMessenger.Chat.Messaging;

namespace Microsoft.Extensions.Hosting;

/// <summary>What Aspire.RabbitMQ.Client does: one shared connection from <c>ConnectionStrings__{name}</c>, a health check, tracing.</summary>
public static class RabbitMqIntegration
{
    public static IHostApplicationBuilder AddRabbitMQClient(this IHostApplicationBuilder builder, string connectionName)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var connectionString = builder.Configuration.GetConnectionString(connectionName)
            ?? throw new InvalidOperationException(
                $"Connection string '{connectionName}' is missing: set ConnectionStrings__{connectionName} (the AppHost does this for local runs).");

        var factory = new ConnectionFactory
        {
            Uri = new Uri(connectionString),
            ClientProvidedName = builder.Environment.ApplicationName,
            AutomaticRecoveryEnabled = true,
            TopologyRecoveryEnabled = true,
        };
        builder.Services.AddSingleton(new RabbitMqConnection(factory));
        builder.Services.AddHealthChecks().AddCheck<RabbitMqHealthCheck>($"rabbitmq-{connectionName}");
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing =>
            tracing.AddSource("RabbitMQ.Client.Publisher", "RabbitMQ.Client.Subscriber"));
        return builder;
    }
}

internal sealed class RabbitMqHealthCheck(RabbitMqConnection connection) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var open = await connection.GetAsync(cancellationToken);
            return open.IsOpen
                ? HealthCheckResult.Healthy()
                : new HealthCheckResult(context.Registration.FailureStatus, "RabbitMQ connection is closed: " + open.CloseReason);
        }
        catch (Exception ex) when (ex is BrokerUnreachableException or OperationInterruptedException or IOException or TimeoutException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "RabbitMQ does not answer: " + ex.Message);
        }
    }
}
