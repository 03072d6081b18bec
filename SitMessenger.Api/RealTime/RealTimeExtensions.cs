using System.Text.Json;
using Microsoft.AspNetCore.SignalR.StackExchangeRedis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace SitMessenger.Api.RealTime;

internal static class RealTimeExtensions
{
    public const string HubPath = "/hubs/chat";

    /// <summary>
    /// SignalR with the Redis backplane on the Api's own Redis connection (Aspire's multiplexer): every replica
    /// delivers to the connections it holds whatever any replica publishes.
    /// </summary>
    public static WebApplicationBuilder AddRealTime(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<RealTimeOptions>().BindConfiguration(RealTimeOptions.SectionName)
            .Validate(options => options.IsValid(), "RealTime: every limit and timeout must be positive, ClientTimeout longer than KeepAliveInterval")
            .ValidateOnStart();
        var options = builder.Configuration.GetSection(RealTimeOptions.SectionName).Get<RealTimeOptions>() ?? new RealTimeOptions();
        services.AddSignalR(hub =>
            {
                hub.KeepAliveInterval = options.KeepAliveInterval;
                hub.ClientTimeoutInterval = options.ClientTimeout;
                hub.HandshakeTimeout = options.HandshakeTimeout;
                // As the REST Api's body limit: a 3,750-character message is far below it.
                hub.MaximumReceiveMessageSize = Extensions.ApiServiceExtensions.MaxRequestBodyBytes;
                hub.EnableDetailedErrors = false;
            })
            .AddJsonProtocol(json =>
            {
                // The REST API's names (chat_id, client_message_id), so one client model serves both.
                json.PayloadSerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            })
            .AddStackExchangeRedis();
        services.AddOptions<RedisOptions>().Configure<IConnectionMultiplexer>((redis, multiplexer) =>
        {
            redis.Configuration.ChannelPrefix = RedisChannel.Literal("sit-hub");
            redis.ConnectionFactory = _ => Task.FromResult(multiplexer);
        });
        services.AddSingleton<HubConnections>();
        services.AddSingleton<ChatEventSequencer>();
        services.AddSingleton<ChatEventPublisher>();
        services.AddSingleton<ReadReceipts>();
        return builder;
    }

    public static IEndpointRouteBuilder MapChatHub(this IEndpointRouteBuilder app)
    {
        app.MapHub<ChatHub>(HubPath, connection =>
        {
            // A connection ends when its access token does: a revoked or expired login stops hearing its chats.
            connection.CloseOnAuthenticationExpiration = true;
        });
        return app;
    }
}
