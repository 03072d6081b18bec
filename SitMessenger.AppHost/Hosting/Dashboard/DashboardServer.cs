using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SitMessenger.AppHost.Hosting.Dashboard;

/// <summary>
/// The AppHost's dashboard (what Aspire's dashboard and, before it, Flower gave the operator): resources, their
/// state and endpoints, and each one's console output. It binds loopback only: it shows logs.
/// </summary>
internal sealed class DashboardServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private DashboardServer(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    public Uri Url { get; }

    public static async Task<DashboardServer> StartAsync(DistributedApplication application, int port, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://localhost:{port}");
        builder.Services.ConfigureHttpJsonOptions(options =>
            options.SerializerOptions.TypeInfoResolverChain.Insert(0, DashboardJsonContext.Default));

        var app = builder.Build();
        app.MapGet("/", () => Results.Content(DashboardPages.Resources, "text/html; charset=utf-8"));
        app.MapGet("/resources/{name}", (string name) =>
            application.Resources.Any(r => r.Name == name)
                ? Results.Content(DashboardPages.Logs(name), "text/html; charset=utf-8")
                : Results.NotFound());
        app.MapGet("/api/resources", () => TypedResults.Ok(application.GetSnapshots()));
        app.MapGet("/api/resources/{name}/logs", (string name, long? after) =>
        {
            try
            {
                var log = application.GetLog(name);
                return Results.Ok(after is long sequence ? log.Since(sequence) : log.Tail(500));
            }
            catch (KeyNotFoundException)
            {
                return Results.NotFound();
            }
        });

        app.MapJobsView(application);

        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException ex)
        {
            await app.DisposeAsync();
            throw new ResourceStartException("dashboard",
                $"cannot listen on port {port} ({ex.Message}). Stop what uses it or choose another port (--dashboard-port).");
        }

        return new DashboardServer(app, new Uri($"http://localhost:{port}/"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(
    PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(IReadOnlyList<ResourceSnapshot>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(IReadOnlyList<LogLine>))]
internal sealed partial class DashboardJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
