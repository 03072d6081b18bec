using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace SitMessenger.Gateway.Extensions;

internal static class ForwardingExtensions
{
    /// <summary>Largest request body let through (the Api sets its own, smaller limit for JSON).</summary>
    public const long DefaultMaxRequestBodyBytes = 1024 * 1024;

    /// <summary>
    /// The Gateway is the edge: X-Forwarded-* from a client is believed only when it comes from a proxy the operator
    /// names (Gateway:KnownProxies, e.g. a cloud load balancer); otherwise the connection's address is the client.
    /// </summary>
    public static IHostApplicationBuilder AddEdgeForwarding(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            foreach (var proxy in builder.Configuration.GetSection("Gateway:KnownProxies").Get<string[]>() ?? [])
            {
                options.KnownProxies.Add(IPAddress.Parse(proxy));
            }
        });

        builder.Services.AddSingleton(new TrustedProxies(builder.Configuration.GetSection("Gateway:KnownProxies").Get<string[]>()?.Length > 0));

        builder.AddRequestBodyLimit(builder.Configuration.GetValue<long?>("Gateway:MaxRequestBodyBytes") ?? DefaultMaxRequestBodyBytes);
        return builder;
    }

    /// <summary>
    /// Reads X-Forwarded-* only when proxies are configured: with an empty list the middleware would trust everyone,
    /// and any client could claim any address.
    /// </summary>
    public static IApplicationBuilder UseEdgeForwarding(this IApplicationBuilder app)
    {
        if (app.ApplicationServices.GetRequiredService<TrustedProxies>().Configured)
        {
            app.UseForwardedHeaders();
        }

        return app;
    }
}

internal sealed record TrustedProxies(bool Configured);
