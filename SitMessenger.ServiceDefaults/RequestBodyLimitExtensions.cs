using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// A request body limit whose 413 reaches the client. Kestrel's own limit cannot do that reliably: it closes the
/// connection with the unread rest of the body still in the kernel's receive buffer, the kernel answers those bytes
/// with a reset, and a client (or the Gateway's proxy, which then reports 502) that has not yet read the 413 loses
/// it. So the limit is enforced here, before the body is read, and Kestrel's limit is set higher: Kestrel drains an
/// unread body within its limit, and the connection ends cleanly.
/// </summary>
public static class RequestBodyLimitExtensions
{
    /// <summary>
    /// How far past the enforced limit Kestrel still drains a body: enough for a body the Gateway let through with its
    /// default 1 MiB limit to be answered 413 by the Api. Bodies larger still close the connection, as Kestrel does.
    /// </summary>
    public const long DrainAllowanceBytes = 1024 * 1024;

    public static TBuilder AddRequestBodyLimit<TBuilder>(this TBuilder builder, long maxBytes) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        builder.Services.AddSingleton(new RequestBodyLimit(maxBytes));
        builder.Services.Configure<KestrelServerOptions>(kestrel => kestrel.Limits.MaxRequestBodySize = maxBytes + DrainAllowanceBytes);
        return builder;
    }

    /// <summary>
    /// Answers 413 (without a body: each service's status pages write their own) when the declared length is over the
    /// limit; a body without a declared length (chunked) is held to the limit while it is read.
    /// </summary>
    public static IApplicationBuilder UseRequestBodyLimit(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var limit = app.ApplicationServices.GetRequiredService<RequestBodyLimit>().MaxBytes;
        return app.Use((context, next) =>
        {
            if (context.Request.ContentLength > limit)
            {
                context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
                return Task.CompletedTask;
            }

            if (context.Request.ContentLength is null
                && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
            {
                bodySize.MaxRequestBodySize = limit;
            }

            return next(context);
        });
    }
}

/// <summary>The largest request body a service accepts.</summary>
public sealed record RequestBodyLimit(long MaxBytes);
