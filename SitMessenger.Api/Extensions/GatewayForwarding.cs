using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace SitMessenger.Api.Extensions;

/// <summary>Whose X-Forwarded-* the Api believes (section "ForwardedHeaders").</summary>
internal sealed class GatewayForwardingOptions
{
    public const string SectionName = "ForwardedHeaders";

    /// <summary>The secret the Gateway sends in <see cref="GatewayForwarding.KeyHeader"/> (parameter gateway-forwarding-key).</summary>
    public string? GatewayKey { get; set; }

    /// <summary>Peers allowed to forward, in addition to proving the key when one is set (e.g. the Gateway's addresses in production).</summary>
    public string[] KnownProxies { get; set; } = [];
}

/// <summary>
/// Locally every process is on 127.0.0.1, so the peer's address cannot tell the Gateway from a client that reaches
/// an Api port directly: trusting loopback let such a client name its own address and escape the per-address login
/// limits. The Gateway proves itself with a shared secret instead; a request without it keeps its connection's address.
/// </summary>
internal static class GatewayForwarding
{
    public const string KeyHeader = "X-Sit-Gateway-Key";

    private static readonly string[] ForwardingHeaders = ["X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"];

    public static void AddGatewayForwarding(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<GatewayForwardingOptions>().BindConfiguration(GatewayForwardingOptions.SectionName)
            .Validate(options => options.KnownProxies.All(proxy => IPAddress.TryParse(proxy, out _)), "ForwardedHeaders:KnownProxies holds a value that is not an IP address.")
            .ValidateOnStart();
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<GatewayForwardingOptions>>((forwarded, gateway) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
            // No default loopback trust: with both lists empty the middleware takes any peer, which is right only
            // because the headers reaching it were already proven by the key (or come from a named proxy).
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var proxy in gateway.Value.KnownProxies)
            {
                forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
            }
        });
    }

    public static WebApplication UseGatewayForwarding(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<GatewayForwardingOptions>>().Value;
        var expected = options.GatewayKey is { Length: > 0 } key ? new SharedSecret(key) : null;
        var proxiesNamed = options.KnownProxies.Length > 0;
        app.Use((context, next) =>
        {
            var headers = context.Request.Headers;
            var trusted = expected is null
                ? proxiesNamed
                : headers[KeyHeader] is [{ } presented] && expected.Matches(presented);
            // The key never reaches endpoints, logs or telemetry of the request.
            headers.Remove(KeyHeader);
            if (!trusted)
            {
                foreach (var name in ForwardingHeaders)
                {
                    headers.Remove(name);
                }
            }

            return next(context);
        });
        app.UseForwardedHeaders();
        return app;
    }
}
