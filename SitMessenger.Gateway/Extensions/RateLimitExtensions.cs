using System.Globalization;
using System.Buffers.Text;
using System.Text.Json;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace SitMessenger.Gateway.Extensions;

/// <summary>A fixed window: this many requests per window per partition.</summary>
internal sealed class WindowLimit
{
    public int PermitLimit { get; set; }

    public TimeSpan Window { get; set; }
}

/// <summary>Section "RateLimits". Defaults suit one person's use of the web client with room to spare.</summary>
internal sealed class RateLimitOptions
{
    public const string SectionName = "RateLimits";

    public bool Enabled { get; set; } = true;

    /// <summary>Every request, per client address.</summary>
    public WindowLimit PerAddress { get; set; } = new() { PermitLimit = 600, Window = TimeSpan.FromSeconds(10) };

    /// <summary>Every request with a bearer token, per user, from whatever addresses: one account cannot take a whole NAT's share.</summary>
    public WindowLimit PerUser { get; set; } = new() { PermitLimit = 300, Window = TimeSpan.FromSeconds(10) };

    /// <summary>Login, registration and token calls, per client address: password guessing is slowed at the door.</summary>
    public WindowLimit Auth { get; set; } = new() { PermitLimit = 60, Window = TimeSpan.FromMinutes(1) };

    /// <summary>Message sends, per user (or per address without a token).</summary>
    public WindowLimit Sends { get; set; } = new() { PermitLimit = 120, Window = TimeSpan.FromSeconds(10) };
}

internal static class RateLimitExtensions
{
    public static IHostApplicationBuilder AddGatewayRateLimits(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(RateLimitOptions.SectionName).Get<RateLimitOptions>() ?? new RateLimitOptions();
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = WriteRejectionAsync;
            if (!options.Enabled)
            {
                return;
            }

            limiter.GlobalLimiter = CreateLimiter(options);
        });
        return builder;
    }

    /// <summary>Every request passes each limit that applies to it: its address, its user, and auth or send.</summary>
    public static PartitionedRateLimiter<HttpContext> CreateLimiter(RateLimitOptions options) =>
        PartitionedRateLimiter.CreateChained(
            PartitionedRateLimiter.Create<HttpContext, string>(context =>
                Window($"address:{ClientAddress(context)}", options.PerAddress)),
            PartitionedRateLimiter.Create<HttpContext, string>(context =>
                User(context) is { } user
                    ? Window($"user:{user}", options.PerUser)
                    : RateLimitPartition.GetNoLimiter("none")),
            PartitionedRateLimiter.Create<HttpContext, string>(context =>
                IsAuth(context.Request)
                    ? Window($"auth:{ClientAddress(context)}", options.Auth)
                    : RateLimitPartition.GetNoLimiter("none")),
            PartitionedRateLimiter.Create<HttpContext, string>(context =>
                IsSend(context.Request)
                    ? Window($"send:{Caller(context)}", options.Sends)
                    : RateLimitPartition.GetNoLimiter("none")));

    private static RateLimitPartition<string> Window(string key, WindowLimit limit) =>
        RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = limit.PermitLimit,
            Window = limit.Window,
            QueueLimit = 0,
            AutoReplenishment = true,
        });

    private static bool IsAuth(HttpRequest request) =>
        HttpMethods.IsPost(request.Method) && request.Path.StartsWithSegments("/api/auth", StringComparison.OrdinalIgnoreCase);

    private static bool IsSend(HttpRequest request)
    {
        var path = request.Path.Value ?? "";
        return path.StartsWith("/api/v1/chat/", StringComparison.OrdinalIgnoreCase)
            && ((HttpMethods.IsPatch(request.Method) && path.Count(c => c == '/') <= 5)
                || (HttpMethods.IsPost(request.Method) && path.Contains("/messages", StringComparison.OrdinalIgnoreCase)));
    }

    private static string ClientAddress(HttpContext context) =>
        context.Connection.RemoteIpAddress?.ToString() ?? IPAddress.None.ToString();

    private static string Caller(HttpContext context) =>
        User(context) is { } user ? "user:" + user : "address:" + ClientAddress(context);

    /// <summary>
    /// The token's subject, read without checking its signature: the Api does that. A forged token only lands in a
    /// bucket of its own, and the per-address limit still holds it back.
    /// </summary>
    private static string? User(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? Subject(header["Bearer ".Length..].Trim()) : null;
    }

    private static string? Subject(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3 || parts[1].Length > 4096)
        {
            return null;
        }

        try
        {
            using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
            return payload.RootElement.ValueKind == JsonValueKind.Object
                && payload.RootElement.TryGetProperty("sub", out var sub) && sub.ValueKind == JsonValueKind.String
                ? sub.GetString()
                : null;
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return null;
        }
    }

    private static async ValueTask WriteRejectionAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var response = rejected.HttpContext.Response;
        var seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter)
            ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds))
            : 1;
        response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await response.WriteAsJsonAsync(
            new RateLimitedBody($"Request was throttled. Expected available in {seconds} seconds."), cancellationToken);
    }
}

internal sealed record RateLimitedBody(string Detail);
