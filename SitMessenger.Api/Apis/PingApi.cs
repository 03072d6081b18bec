namespace SitMessenger.Api.Apis;

internal static class PingApi
{
    /// <summary>Which Api process answered: tells replicas apart behind the Gateway.</summary>
    private static readonly string Instance = $"{Environment.MachineName}:{Environment.ProcessId}";

    public static IEndpointRouteBuilder MapPingApi(this IEndpointRouteBuilder app)
    {
        // The web client calls this to see the backend is there; it echoes the id it sent.
        // Routing matches with or without the trailing slash, as the Django routes did.
        app.MapGet("/api/v1/ping/", (string? id) => TypedResults.Ok(new PingResponse(id)))
            .AllowAnonymous().WithTags("Diagnostics").WithSummary("Liveness check of the API through the Gateway");

        // For operators checking a proxy chain: the client address, scheme and host as the Api understood them.
        app.MapGet("/api/v1/ping/request/", (HttpContext http) => TypedResults.Ok(new RequestSeenResponse(
                http.Connection.RemoteIpAddress?.ToString(), http.Request.Scheme, http.Request.Host.Value, Instance)))
            .AllowAnonymous().WithTags("Diagnostics").WithSummary("What the Api sees of this request after the Gateway");
        return app;
    }
}

internal sealed record PingResponse(string? Id);

internal sealed record RequestSeenResponse(string? ClientAddress, string Scheme, string? Host, string Instance);
