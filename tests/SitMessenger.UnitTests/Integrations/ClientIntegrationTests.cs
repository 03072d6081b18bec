using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry.Trace;
using RabbitMQ.Client;
using SitMessenger.Chat.Integrations;
using StackExchange.Redis;

namespace SitMessenger.UnitTests.Integrations;

/// <summary>
/// The three clients as the services register them, through Aspire's client integrations. Nothing here connects:
/// every server address is unused.
/// </summary>
public sealed class ClientIntegrationTests
{
    [Fact]
    public void Each_client_brings_the_integrations_health_check()
    {
        using var services = Build();

        var names = services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations.Select(r => r.Name);

        // /health names these; the system tests look for them.
        Assert.Equal(["PostgreSql", "StackExchange.Redis", "RabbitMQ.Client"], names);
    }

    [Fact]
    public void Postgres_pool_is_bounded_and_probed_by_default()
    {
        using var services = Build();

        var connection = new NpgsqlConnectionStringBuilder(services.GetRequiredService<NpgsqlDataSource>().ConnectionString);

        Assert.Equal(PostgresClientOptions.DefaultMaxPoolSize, connection.MaxPoolSize);
        Assert.Equal(PostgresClientOptions.DefaultKeepAliveSeconds, connection.KeepAlive);
    }

    [Fact]
    public void Postgres_MaxPoolSize_from_configuration_is_used()
    {
        using var services = Build(("Postgres:MaxPoolSize", "48"));

        var connection = new NpgsqlConnectionStringBuilder(services.GetRequiredService<NpgsqlDataSource>().ConnectionString);

        Assert.Equal(48, connection.MaxPoolSize);
    }

    [Fact]
    public void Postgres_MaxPoolSize_below_one_stops_the_service_at_start_naming_the_setting()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Build(("Postgres:MaxPoolSize", "0")));

        Assert.Contains("Postgres:MaxPoolSize", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sitdb")]
    [InlineData("cache")]
    [InlineData("messaging")]
    public void A_missing_connection_string_stops_the_service_at_start_naming_it(string connectionName)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Build(($"ConnectionStrings:{connectionName}", "")));

        Assert.Contains($"ConnectionStrings__{connectionName}", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Host=db", null, 32, 5)]
    [InlineData("Host=db;Maximum Pool Size=20;Keepalive=30", null, 20, 30)] // the connection string's own choice stays
    [InlineData("Host=db;Maximum Pool Size=20", 48, 48, 5)] // Postgres:MaxPoolSize wins over it
    public void Postgres_settings_fill_in_what_the_connection_string_leaves_open(string connectionString, int? configured, int pool, int keepAlive)
    {
        var connection = new NpgsqlConnectionStringBuilder(connectionString);

        new PostgresClientOptions { MaxPoolSize = configured }.ApplyTo(connection);

        Assert.Equal(pool, connection.MaxPoolSize);
        Assert.Equal(keepAlive, connection.KeepAlive);
    }

    [Theory]
    [InlineData("Host=db", PostgresClientOptions.DefaultMaxAutoPrepare, PostgresClientOptions.DefaultAutoPrepareMinUsages)]
    [InlineData("Host=db;Max Auto Prepare=10;Auto Prepare Min Usages=7", 10, 7)] // the connection string's own choice stays
    public void Postgres_statements_are_prepared_unless_the_connection_string_says_otherwise(string connectionString, int maxAutoPrepare, int minUsages)
    {
        var connection = new NpgsqlConnectionStringBuilder(connectionString);

        new PostgresClientOptions().ApplyTo(connection);

        Assert.Equal(maxAutoPrepare, connection.MaxAutoPrepare);
        Assert.Equal(minUsages, connection.AutoPrepareMinUsages);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void A_pooled_connection_skips_its_session_reset_only_when_the_process_says_it_keeps_no_session_state(bool reset, bool noResetOnClose)
    {
        var connection = new NpgsqlConnectionStringBuilder("Host=db");

        new PostgresClientOptions { ResetSessionOnReturn = reset }.ApplyTo(connection);

        Assert.Equal(noResetOnClose, connection.NoResetOnClose);
    }

    [Fact]
    public void Redis_is_a_cache_that_may_be_down()
    {
        // abortConnect=true in the connection string must not make a service fail at start while Redis is down.
        using var services = Build(("ConnectionStrings:cache", "127.0.0.1:1,abortConnect=true"));

        var options = services.GetRequiredService<IOptionsMonitor<ConfigurationOptions>>().Get(Options.DefaultName);

        Assert.False(options.AbortOnConnectFail);
        Assert.False(options.BacklogPolicy.QueueWhileDisconnected);
        Assert.Equal("127.0.0.1:1", Assert.Single(options.EndPoints).ToString());
    }

    [Fact]
    public void RabbitMq_connection_is_named_after_the_service_and_recovers_itself()
    {
        using var services = Build();

        var factory = Assert.IsType<ConnectionFactory>(services.GetRequiredService<IConnectionFactory>());

        Assert.Equal("sit-test-service", factory.ClientProvidedName);
        Assert.True(factory.AutomaticRecoveryEnabled);
        Assert.True(factory.TopologyRecoveryEnabled);
        Assert.Equal(("127.0.0.1", 1, "sit"), (factory.HostName, factory.Port, factory.UserName));
    }

    [Fact]
    public void Clients_record_spans_only_when_an_OTLP_collector_takes_them()
    {
        using (var quiet = Build())
        {
            Assert.Null(quiet.GetService<TracerProvider>());
        }

        using var exporting = Build(("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1"));
        Assert.NotNull(exporting.GetService<TracerProvider>());
    }

    private static ServiceProvider Build(params (string Key, string Value)[] settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "sit-test-service" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:sitdb"] = "Host=127.0.0.1;Port=1;Username=sit;Password=secret;Database=sit",
            ["ConnectionStrings:cache"] = "127.0.0.1:1",
            ["ConnectionStrings:messaging"] = "amqp://sit:secret@127.0.0.1:1/",
        });
        builder.Configuration.AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)));

        builder.AddPostgresDataSource("sitdb");
        builder.AddRedisConnection("cache");
        builder.AddRabbitMqConnection("messaging");
        return builder.Services.BuildServiceProvider();
    }
}
