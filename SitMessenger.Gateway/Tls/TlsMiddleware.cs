using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.Extensions.Options;
using SitMessenger.Gateway.Acme;

namespace SitMessenger.Gateway.Tls;

/// <summary>
/// Answers <c>GET /.well-known/acme-challenge/{token}</c> with the key authorization (RFC 8555 section 8.3), over
/// plain HTTP as the CA asks, and from whichever replica the CA reaches when the store is shared. Unknown tokens: 404.
/// </summary>
internal sealed class AcmeChallengeMiddleware(RequestDelegate next, IHttp01ChallengeStore store)
{
    public const string PathPrefix = "/.well-known/acme-challenge";

    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments(PathPrefix, StringComparison.Ordinal, out var rest))
        {
            await next(context);
            return;
        }

        var token = rest.Value is { Length: > 1 } value ? value[1..] : string.Empty;
        var answer = (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)) && IsToken(token)
            ? await store.GetAsync(token, context.RequestAborted)
            : null;
        if (answer is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/plain";
        // Caches between the CA and us must not keep an answer for a token that is only valid for minutes.
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.WriteAsync(answer, context.RequestAborted);
    }

    /// <summary>Tokens are base64url (RFC 8555 section 8.1); anything else is not looked up, nor used as a store key.</summary>
    internal static bool IsToken(string token) =>
        token.Length is > 0 and <= 128 && token.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}

/// <summary>
/// Plain HTTP answers 308 to the same URL on HTTPS, except ACME challenges (the CA validates over HTTP) and the
/// health endpoints (probes use plain HTTP and must not need a certificate).
/// </summary>
internal sealed class HttpsRedirectMiddleware(RequestDelegate next, IOptions<TlsOptions> options)
{
    private readonly int _port = options.Value.EffectivePublicHttpsPort;

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.IsHttps || IsExempt(request.Path))
        {
            return next(context);
        }

        if (string.IsNullOrEmpty(request.Host.Host))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return Task.CompletedTask;
        }

        var host = _port == 443 ? new HostString(request.Host.Host) : new HostString(request.Host.Host, _port);
        // 308, not 301: the method and body are kept, so a POST to http:// is not silently turned into a GET.
        context.Response.StatusCode = StatusCodes.Status308PermanentRedirect;
        context.Response.Headers.Location = UriHelper.BuildAbsolute("https", host, request.PathBase, request.Path, request.QueryString);
        return Task.CompletedTask;
    }

    internal static bool IsExempt(PathString path) =>
        path.StartsWithSegments(AcmeChallengeMiddleware.PathPrefix, StringComparison.Ordinal)
        || path.StartsWithSegments(ServiceDefaultsExtensions.HealthEndpointPath, StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments(ServiceDefaultsExtensions.AlivenessEndpointPath, StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// Strict-Transport-Security on HTTPS answers. Not for loopback names: HSTS on localhost would stick to every local
/// development server of the browser, whatever its port.
/// </summary>
internal sealed class HstsMiddleware(RequestDelegate next, IOptions<TlsOptions> options)
{
    private readonly string _value = HeaderValue(options.Value);

    public Task InvokeAsync(HttpContext context)
    {
        if (context.Request.IsHttps && !IsLoopbackHost(context.Request.Host.Host))
        {
            // At the start of the answer, so a proxied answer's own headers cannot drop or weaken it.
            context.Response.OnStarting(() =>
            {
                context.Response.Headers.StrictTransportSecurity = _value;
                return Task.CompletedTask;
            });
        }

        return next(context);
    }

    internal static string HeaderValue(TlsOptions options) =>
        "max-age=" + ((long)options.HstsMaxAge.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture)
        + (options.HstsIncludeSubDomains ? "; includeSubDomains" : string.Empty);

    internal static bool IsLoopbackHost(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
        || (System.Net.IPAddress.TryParse(host, out var address) && System.Net.IPAddress.IsLoopback(address));
}
