namespace SitMessenger.Api.Apis;

internal static class PingApi
{
    public static IEndpointRouteBuilder MapPingApi(this IEndpointRouteBuilder app)
    {
        // The web client calls this to see the backend is there; it echoes the id it sent.
        // Routing matches with or without the trailing slash, as the Django routes did.
        app.MapGet("/api/v1/ping/", (string? id) => TypedResults.Ok(new PingResponse(id)));
        return app;
    }
}

internal sealed record PingResponse(string? Id);
