using Aspire.Hosting.ApplicationModel;

namespace SitMessenger.AppHost.Extensions;

/// <summary>
/// PostgreSQL, Redis and RabbitMQ under the names the services know them by. Publish mode describes them as Aspire's
/// container resources (what aspirate and other deployers read); run mode runs the machine's own binaries, so no
/// container engine is needed, unless <see cref="AppHostOptions.UseContainers"/> asks for Aspire's containers. A local
/// server that exits on its own (a full disk stops PostgreSQL and RabbitMQ) is started again like a crashed service.
/// </summary>
internal static class ServerResourceExtensions
{
    /// <summary>
    /// Room for every service's pool (32 connections per process by default: two Api replicas and the Worker take 96)
    /// plus the migrator and an operator's psql; PostgreSQL's own default of 100 is too few for that.
    /// </summary>
    private const int MaxConnections = 200;

    public static IResourceBuilder<IResourceWithConnectionString> AddChatDatabase(this IDistributedApplicationBuilder builder, AppHostOptions options, StateFolder? state) =>
        RunsLocally(builder, options, state)
            ? builder.AddLocalPostgres("postgres", state!.Combine("postgres")).WithMaxConnections(MaxConnections)
                .WithAnnotation(new RestartOnCrashAnnotation())
                .AddDatabase("sitdb", databaseName: "sitmessenger")
            : builder.AddPostgres("postgres").WithDataVolume()
                .WithArgs("-c", $"max_connections={MaxConnections}")
                .AddDatabase("sitdb", databaseName: "sitmessenger");

    public static IResourceBuilder<IResourceWithConnectionString> AddChatCache(this IDistributedApplicationBuilder builder, AppHostOptions options, StateFolder? state) =>
        RunsLocally(builder, options, state)
            ? builder.AddLocalRedis("cache", state!.Combine("cache")).WithAnnotation(new RestartOnCrashAnnotation())
            : builder.AddRedis("cache").WithDataVolume();

    public static IResourceBuilder<IResourceWithConnectionString> AddChatMessaging(this IDistributedApplicationBuilder builder, AppHostOptions options, StateFolder? state) =>
        RunsLocally(builder, options, state)
            ? builder.AddLocalRabbitMQ("messaging", state!.Combine("messaging")).WithManagementPlugin()
                .WithAnnotation(new RestartOnCrashAnnotation())
            : builder.AddRabbitMQ("messaging").WithDataVolume().WithManagementPlugin();

    private static bool RunsLocally(IDistributedApplicationBuilder builder, AppHostOptions options, StateFolder? state) =>
        builder.ExecutionContext.IsRunMode && !options.UseContainers && state is not null;
}
