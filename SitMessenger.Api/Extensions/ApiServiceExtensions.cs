using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using SitMessenger.Api.Accounts;
using SitMessenger.Api.Apis;
using SitMessenger.Api.Auth;
using SitMessenger.Api.Chats;
using SitMessenger.Api.Infrastructure;
using SitMessenger.Chat.Accounts;
using SitMessenger.Chat.Crypto;
using SitMessenger.Chat.Messages;
using SitMessenger.Chat.Messaging;
using SitMessenger.Chat.Storage;

namespace SitMessenger.Api.Extensions;

internal static class ApiServiceExtensions
{
    /// <summary>Largest request body the Api reads: a 3,750-character message is far below it.</summary>
    public const long MaxRequestBodyBytes = 64 * 1024;

    public const string CorsPolicy = "sit-web-client";

    /// <summary>How the Api's answers are written (and its request bodies read).</summary>
    public static void ConfigureJson(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);

        // The web client reads Django's field names: access, message_data, cache_messages, new_message...
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
    }

    public static WebApplicationBuilder AddSitMessengerApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        builder.AddRequestBodyLimit(MaxRequestBodyBytes);

        services.ConfigureHttpJsonOptions(json => ConfigureJson(json.SerializerOptions));
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        services.AddExceptionHandler<DrfExceptionHandler>();
        services.AddProblemDetails();

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<ApiTelemetry>();
        builder.AddTelemetrySources(ApiTelemetry.Name, JobPublisher.Source.Name);

        builder.AddAuthentication();
        builder.AddWebClientCors();
        builder.AddChatEncryption();

        services.AddOptions<LoginThrottleOptions>().BindConfiguration(LoginThrottleOptions.SectionName);
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<IPasswordHasher<UserAccount>, DjangoCompatiblePasswordHasher>();
        services.AddSingleton<UserStore>();
        services.AddSingleton<AccountPasswords>();
        services.AddSingleton<KnownUsers>();
        services.AddSingleton<BlockStore>();
        services.AddSingleton<ChatStore>();
        services.AddSingleton<ChatSegmentCatalog>();
        services.AddOptions<ChatLimitsOptions>().BindConfiguration(ChatLimitsOptions.SectionName)
            .Validate(options => options.ChatsPerUser >= 1 && options.MembersPerChat >= 2 && options.CreationWindow > TimeSpan.Zero
                && options.DefaultListPage >= 1 && options.MaxListPage >= options.DefaultListPage, "ChatLimits: every limit must be positive, a chat must allow 2 members")
            .ValidateOnStart();
        services.AddSingleton<PendingMessageCache>();
        services.AddOptions<RecentMessagesOptions>().BindConfiguration(RecentMessagesOptions.SectionName)
            .Validate(options => options.MessagesPerChat >= 1 && options.CharactersPerChat >= 1 && options.Chats >= 1 && options.Idle > TimeSpan.Zero,
                "RecentMessages: MessagesPerChat, CharactersPerChat, Chats and Idle must be positive")
            .ValidateOnStart();
        services.AddSingleton<RecentMessages>();
        services.AddSingleton<KnownChatMembers>();
        services.AddSingleton<ChatMessageService>();
        services.AddSingleton<SentChatAnswer>();
        services.AddSingleton<SegmentReader>();
        services.AddSingleton<JobPublisher>();
        services.AddOptions<FlushOptions>().BindConfiguration(FlushOptions.SectionName);
        services.AddSingleton<ChatFlushRequests>();
        services.AddHostedService(provider => provider.GetRequiredService<ChatFlushRequests>());
        services.AddOptions<SegmentStoreOptions>().BindConfiguration(SegmentStoreOptions.SectionName)
            .Validate(options => !string.IsNullOrWhiteSpace(options.Root), "Segments:Root is not set: the folder (a shared volume in production) segment files are read from.")
            .ValidateOnStart();
        services.AddSingleton<ISegmentStore, FileSystemSegmentStore>();

        builder.AddGatewayForwarding();

        services.AddOpenApi("v1", options => options
            .AddDocumentTransformer<ApiDocumentTransformer>()
            .AddDocumentTransformer<RealTime.ChatHubDocumentTransformer>()
            .AddOperationTransformer<ApiOperationTransformer>());
        return builder;
    }

    private static void AddAuthentication(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<JwtOptions>().BindConfiguration(JwtOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<TokenService>();
        services.AddSingleton<RevokedTokenFamilies>();
        services.AddSingleton<RefreshTokenStore>();
        services.AddHostedService<RevokedFamiliesRefill>();

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<JwtOptions>>((bearer, jwt) =>
            {
                bearer.MapInboundClaims = false;
                bearer.TokenValidationParameters = TokenService.CreateValidationParameters(jwt.Value);
                bearer.Events = new JwtBearerEvents
                {
                    // Browsers cannot set headers on a WebSocket: hubs take the token from the query string.
                    OnMessageReceived = context =>
                    {
                        if (context.Request.Path.StartsWithSegments("/hubs") && context.Request.Query["access_token"] is [{ Length: > 0 } token])
                        {
                            context.Token = token;
                        }

                        return Task.CompletedTask;
                    },
                    OnTokenValidated = RejectRevokedOrRefreshTokensAsync,
                    OnChallenge = WriteDrfChallengeAsync,
                };
            });
        services.AddAuthorization();
    }

    /// <summary>
    /// A refresh token is no access token; a logged-out login's access tokens are void. A signature proves only that
    /// the key signed it: the subject must also be a user that exists, or every endpoint would meet a malformed id
    /// (FormatException) or a missing row (foreign-key violation) and answer 500 instead of 401.
    /// </summary>
    private static async Task RejectRevokedOrRefreshTokensAsync(TokenValidatedContext context)
    {
        var principal = context.Principal!;
        if (principal.FindFirstValue(TokenService.TokenTypeClaim) != TokenService.AccessType
            || !Guid.TryParse(principal.FindFirstValue(TokenService.FamilyClaim), out var familyId))
        {
            context.Fail("not an access token");
            return;
        }

        if (!Guid.TryParse(principal.FindFirstValue(JwtRegisteredClaimNames.Sub), out var userId))
        {
            context.Fail("subject is not a user id");
            return;
        }

        var revoked = context.HttpContext.RequestServices.GetRequiredService<RevokedTokenFamilies>();
        if (await revoked.IsRevokedAsync(familyId, context.HttpContext.RequestAborted))
        {
            context.Fail("token family revoked");
            return;
        }

        var users = context.HttpContext.RequestServices.GetRequiredService<KnownUsers>();
        if (!await users.ExistsAsync(userId, context.HttpContext.RequestAborted))
        {
            context.Fail("subject is no user");
            return;
        }

        if (context.HttpContext.Request.Path.StartsWithSegments("/hubs"))
        {
            KeepOnlyWhatHubsUse(context, userId, principal.Username());
        }
    }

    /// <summary>
    /// A hub connection holds its request, and so its principal, for as long as it lives: the parsed token with its
    /// twenty-odd claims and the token string itself came to about 4 KiB per idle connection. The hub needs the user's
    /// id and name only (the token's expiry, which closes the connection, is in the authentication properties).
    /// </summary>
    private static void KeepOnlyWhatHubsUse(TokenValidatedContext context, Guid userId, string username)
    {
        var identity = new ClaimsIdentity(
            [new Claim(JwtRegisteredClaimNames.Sub, userId.ToString()), new Claim(TokenService.UsernameClaim, username)],
            context.Principal!.Identity?.AuthenticationType ?? JwtBearerDefaults.AuthenticationScheme,
            TokenService.UsernameClaim,
            roleType: null);
        context.Principal = new ClaimsPrincipal(identity);
        context.HttpContext.Request.Headers.Authorization = default;
    }

    private static async Task WriteDrfChallengeAsync(JwtBearerChallengeContext context)
    {
        context.HandleResponse();
        var response = context.Response;
        response.StatusCode = StatusCodes.Status401Unauthorized;
        response.Headers.WWWAuthenticate = "Bearer realm=\"api\"";
        var hasToken = context.Request.Headers.Authorization.Count > 0;
        if (context.AuthenticateFailure is null && !hasToken)
        {
            await response.WriteAsJsonAsync(new DetailBody("Authentication credentials were not provided."));
            return;
        }

        await response.WriteAsJsonAsync(new TokenErrorBody("Given token not valid for any token type", AuthApi.TokenNotValidCode));
    }

    private static void AddWebClientCors(this WebApplicationBuilder builder)
    {
        var configured = builder.Configuration.GetSection("Cors:AllowedOrigins").Get<string[]>() ?? [];
        // The SIT web client's development servers.
        string[] development = ["http://localhost:3000", "http://localhost:8080", "http://127.0.0.1:3000", "http://127.0.0.1:8080"];
        var origins = builder.Environment.IsDevelopment() ? [.. configured, .. development] : configured;
        builder.Services.AddCors(cors => cors.AddPolicy(CorsPolicy, policy => policy
            .WithOrigins(origins)
            .AllowAnyMethod()
            .WithHeaders("Authorization", "Content-Type", "Accept")
            // Link carries the next page of the chat list.
            .WithExposedHeaders("Retry-After", "Link")
            .SetPreflightMaxAge(TimeSpan.FromHours(1))));
    }

    private static void AddChatEncryption(this WebApplicationBuilder builder)
    {
        builder.Services.AddMemoryCache(cache => cache.SizeLimit = 100_000);
        builder.Services.AddOptions<ChatKeyRingOptions>().BindConfiguration(ChatKeyRingOptions.SectionName);
        builder.Services.AddSingleton(services => ChatKeyRing.FromOptions(services.GetRequiredService<IOptions<ChatKeyRingOptions>>().Value));
        builder.Services.AddSingleton<ChatMessageCipher>();
    }

    public static WebApplication UseDrfStatusPages(this WebApplication app)
    {
        app.UseStatusCodePages(async context =>
        {
            var response = context.HttpContext.Response;
            var detail = response.StatusCode switch
            {
                StatusCodes.Status404NotFound => DrfErrors.NotFoundDetail,
                StatusCodes.Status405MethodNotAllowed => $"Method \"{context.HttpContext.Request.Method}\" not allowed.",
                StatusCodes.Status403Forbidden => "You do not have permission to perform this action.",
                // Answered without an exception: content-type matching by routing, the body limit before the body is read.
                StatusCodes.Status413PayloadTooLarge => "Request body is too large.",
                StatusCodes.Status415UnsupportedMediaType => $"Unsupported media type \"{context.HttpContext.Request.ContentType}\" in request.",
                _ => null,
            };
            if (detail is not null)
            {
                await response.WriteAsJsonAsync(new DetailBody(detail));
            }
        });
        return app;
    }
}
