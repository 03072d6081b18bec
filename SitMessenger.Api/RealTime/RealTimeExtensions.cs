using System.Text.Json;
using Microsoft.AspNetCore.SignalR.StackExchangeRedis;
using Microsoft.Extensions.Options;
using SitMessenger.Api.Auth;
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

    /// <summary>
    /// A user already at RealTime:ConnectionsPerUser on this replica gets 429 before the WebSocket opens, a clear answer
    /// any client shows. The hub counts again when the connection opens (two racing requests), and closes the extra one.
    /// </summary>
    public static IApplicationBuilder UseHubConnectionLimit(this IApplicationBuilder app)
    {
        var connections = app.ApplicationServices.GetRequiredService<HubConnections>();
        var options = app.ApplicationServices.GetRequiredService<IOptions<RealTimeOptions>>();
        return app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments(HubPath) && context.User.Identity?.IsAuthenticated == true
                && !context.Request.Path.StartsWithSegments(HubPath + "/negotiate")
                && connections.Count(context.User.UserId()) >= options.Value.ConnectionsPerUser)
            {
                context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                context.Response.Headers.RetryAfter = "1";
                await context.Response.WriteAsJsonAsync(new Infrastructure.DetailBody(
                    $"Too many connections: at most {options.Value.ConnectionsPerUser} per user."));
                return;
            }

            await next(context);
        });
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
