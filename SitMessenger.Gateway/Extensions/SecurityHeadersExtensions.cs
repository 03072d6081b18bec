namespace SitMessenger.Gateway.Extensions;

internal static class SecurityHeadersExtensions
{
    /// <summary>Headers every answer carries. The API serves JSON, so its policy allows nothing to run or frame it.</summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()";
            // The browsable API reference is a page with scripts and styles of its own; everything else is data.
            headers.ContentSecurityPolicy = context.Request.Path.StartsWithSegments("/api/schema/swagger-ui")
                ? "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; frame-ancestors 'none'"
                : "default-src 'none'; frame-ancestors 'none'";
            return Task.CompletedTask;
        });
        await next(context);
    });
}
