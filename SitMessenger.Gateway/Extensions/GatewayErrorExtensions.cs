using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace SitMessenger.Gateway.Extensions;

/// <summary>
/// The answers the Gateway gives itself (not the Api's), each with the <c>{"detail": ...}</c> body the docs promise,
/// as the Api's own status pages do.
/// </summary>
internal static class GatewayErrorExtensions
{
    public const string TimeoutDetail = "The server did not answer in time.";
    public const string UnreachableDetail = "The server is unavailable. Try again later.";
    public const string TooLargeDetail = "Request body is too large.";
    public const string NotFoundDetail = "Not found.";

    private const string AllowedMethods = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";

    /// <summary>
    /// Plain CONNECT (a tunnel request) is refused with 405: YARP would try to forward it and answer 502. HTTP/2's
    /// extended CONNECT is how WebSockets arrive there, and passes.
    /// </summary>
    public static IApplicationBuilder UseGatewayErrors(this IApplicationBuilder app)
    {
        app.UseStatusCodePages(context => WriteDetailAsync(context.HttpContext));
        return app.Use((context, next) =>
        {
            if (HttpMethods.IsConnect(context.Request.Method) && context.Features.Get<IHttpExtendedConnectFeature>()?.IsExtendedConnect != true)
            {
                context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
                context.Response.Headers.Allow = AllowedMethods;
                return Task.CompletedTask;
            }

            return next(context);
        });
    }

    private static Task WriteDetailAsync(HttpContext context)
    {
        var status = context.Response.StatusCode;
        string? detail;
        if (context.Features.Get<IForwarderErrorFeature>() is { } error)
        {
            // The client is gone when it canceled; any other failure to get an answer from the Api is the Api's.
            detail = error.Error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.RequestBodyClient
                ? null
                : status == StatusCodes.Status504GatewayTimeout ? TimeoutDetail : UnreachableDetail;
        }
        else if (context.Features.Get<IReverseProxyFeature>() is not null)
        {
            // The Api's own answer, passed on as it is.
            detail = null;
        }
        else
        {
            detail = status switch
            {
                StatusCodes.Status404NotFound => NotFoundDetail,
                StatusCodes.Status405MethodNotAllowed => $"Method \"{context.Request.Method}\" not allowed.",
                StatusCodes.Status413PayloadTooLarge => TooLargeDetail,
                _ => null,
            };
        }

        return detail is null ? Task.CompletedTask : context.Response.WriteAsJsonAsync(new GatewayErrorBody(detail), context.RequestAborted);
    }
}

internal sealed record GatewayErrorBody(string Detail);
