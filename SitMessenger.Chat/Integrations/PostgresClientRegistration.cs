using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using SitMessenger.Chat.Integrations;

namespace Microsoft.Extensions.Hosting;

public static class PostgresClientRegistration
{
    /// <summary>
    /// The services' one way to register PostgreSQL: Aspire.Npgsql's NpgsqlDataSource from
    /// <c>ConnectionStrings__{connectionName}</c>, with its health check and telemetry, sized by <see cref="PostgresClientOptions"/>.
    /// </summary>
    /// <param name="configure">The process's own choices, which the configuration section can still override.</param>
    public static IHostApplicationBuilder AddPostgresDataSource(
        this IHostApplicationBuilder builder, string connectionName, Action<PostgresClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // Read here, not through IOptions: Aspire builds the data source without a service provider. Checked here, so
        // a bad value stops the process at start-up instead of at its first query.
        var options = new PostgresClientOptions();
        configure?.Invoke(options);
        builder.Configuration.GetSection(PostgresClientOptions.SectionName).Bind(options);
        if (options.Validate() is { Count: > 0 } errors)
        {
            throw new OptionsValidationException(PostgresClientOptions.SectionName, typeof(PostgresClientOptions), errors);
        }

        var exportsTelemetry = builder.ExportsTelemetry();
        builder.AddNpgsqlDataSource(
            connectionName,
            settings =>
            {
                RequiredConnectionString.Check(settings.ConnectionString, connectionName);
                settings.DisableTracing |= !exportsTelemetry;
            },
            dataSource => options.ApplyTo(dataSource.ConnectionStringBuilder));
        return builder;
    }
}
