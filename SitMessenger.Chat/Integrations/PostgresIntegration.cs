using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>What Aspire.Npgsql does: an NpgsqlDataSource from <c>ConnectionStrings__{name}</c>, a health check, tracing.</summary>
public static class PostgresIntegration
{
    /// <summary>Connections one process keeps at most: far more than two cores' worth of busy backends.</summary>
    public const int DefaultMaxPoolSize = 32;

    public static IHostApplicationBuilder AddNpgsqlDataSource(this IHostApplicationBuilder builder, string connectionName)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var connectionString = builder.Configuration.GetConnectionString(connectionName)
            ?? throw new InvalidOperationException(
                $"Connection string '{connectionName}' is missing: set ConnectionStrings__{connectionName} (the AppHost does this for local runs).");

        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        if (settings.KeepAlive == 0)
        {
            // Idle pooled connections are probed, so after a PostgreSQL restart the dead ones leave the pool within
            // seconds instead of each failing the next request that draws it.
            settings.KeepAlive = 5;
        }

        // Npgsql's default of 100 connections per process oversubscribes the server once a few processes (Api
        // replicas, the Worker) share it: past max_connections a burst of requests fails instead of waiting its turn
        // for a pooled connection. All the pools together must fit in the server's max_connections.
        if (builder.Configuration.GetValue<int?>("Postgres:MaxPoolSize") is { } configured)
        {
            settings.MaxPoolSize = configured;
        }
        else if (settings.MaxPoolSize == new NpgsqlConnectionStringBuilder().MaxPoolSize)
        {
            settings.MaxPoolSize = DefaultMaxPoolSize;
        }

        builder.Services.AddNpgsqlDataSource(settings.ConnectionString);
        builder.Services.AddHealthChecks().AddCheck<PostgresHealthCheck>($"postgres-{connectionName}");
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddNpgsql());
        return builder;
    }
}

internal sealed class PostgresHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "PostgreSQL does not answer: " + ex.Message);
        }
    }
}
