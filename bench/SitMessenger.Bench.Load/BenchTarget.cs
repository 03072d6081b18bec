using System.Globalization;
using SitMessenger.Chat.Messaging;
using SitMessenger.Hosting.LocalServers;
using SitMessenger.Testing;

namespace SitMessenger.Bench.Load;

/// <summary>
/// The system under load: either one the benchmark starts itself through the AppHost's testing entry point (free ports,
/// temporary state folder, removed at the end), exactly as the system tests do, or a Gateway already running (--url).
/// </summary>
internal sealed class BenchTarget : IAsyncDisposable
{
    private static readonly string[] Services = ["api", "worker", "scheduler", "gateway"];
    private static readonly string[] Servers = ["postgres", "cache", "messaging"];
    private readonly SitMessengerSystem? _app;
    private readonly int? _apiPid;
    private readonly Uri? _apiUrl;

    private BenchTarget(
        Uri gateway, string description, SitMessengerSystem? app, int? apiPid, string? database, TimeSpan? flushDelay, Uri? apiUrl = null)
    {
        Gateway = gateway;
        _apiUrl = apiUrl;
        Description = description;
        _app = app;
        _apiPid = apiPid;
        Database = database;
        FlushDelay = flushDelay;
    }

    public Uri Gateway { get; }

    /// <summary>A client for the Gateway with room for every concurrent request the run makes (it owns its handler).</summary>
    public HttpClient CreateClient(int connections) => new(
        new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            MaxConnectionsPerServer = connections,
            UseCookies = false,
            AllowAutoRedirect = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        },
        disposeHandler: true)
    {
        BaseAddress = Gateway,
        Timeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>PostgreSQL's connection string (Npgsql keywords): the own system's, or --database; null when not known.</summary>
    public string? Database { get; }

    /// <summary>The system's flush delay; null when not known (a running system's own).</summary>
    public TimeSpan? FlushDelay { get; }

    public string Description { get; }

    /// <summary>
    /// The Api's own process now (a restarted Api has a new one; were it started through <c>dotnet run</c>, not that
    /// wrapper); null when not known.
    /// </summary>
    public int? ApiProcessId
    {
        get
        {
            if (_app is null)
            {
                return _apiPid;
            }

            try
            {
                return _app.ServiceProcessId("api");
            }
            catch (ArgumentException)
            {
                return null;
            }
        }
    }

    /// <summary>
    /// The Api's own addresses, one per replica, for the GET that bypasses the Gateway; empty when not known (--url
    /// without --api-url).
    /// </summary>
    public IReadOnlyList<Uri> ApiServers
    {
        get
        {
            if (_app is null)
            {
                return _apiUrl is null ? [] : [_apiUrl];
            }

            return [.. _app.Replicas("api").Select(r => _app.GetEndpoint(r.Name))];
        }
    }

    /// <summary>
    /// The processes to measure, as they are now: each service replica's own dotnet process (not a <c>dotnet run</c>
    /// wrapper, when the AppHost falls back to one) and each server's launcher, whose tree is the server. A running system: the Api with --api-pid.
    /// </summary>
    public IReadOnlyList<WatchedProcess> Processes()
    {
        if (_app is null)
        {
            return _apiPid is int pid ? [new WatchedProcess("api", pid, ProcessRole.Service)] : [];
        }

        var processes = new List<WatchedProcess>();
        foreach (var service in Services)
        {
            foreach (var replica in _app.Replicas(service))
            {
                if (replica.ProcessId is int launcher)
                {
                    processes.Add(new WatchedProcess(replica.Name, LocalProcessTable.Deepest(launcher), ProcessRole.Service));
                }
            }
        }

        foreach (var server in Servers)
        {
            if (_app.Status(server).ProcessId is int launcher)
            {
                processes.Add(new WatchedProcess(server, launcher, ProcessRole.Server));
            }
        }

        return processes;
    }

    public static BenchTarget External(Uri gateway, int? apiPid, string? database, Uri? apiUrl) =>
        new(gateway, string.Create(CultureInfo.InvariantCulture,
            $"{gateway} (running system{(apiPid is null ? "; no --api-pid, so no memory or CPU figures" : $", Api pid {apiPid}")}{(apiUrl is null ? "; no --api-url, so no direct GET" : $", Api {apiUrl}")})"),
            null, apiPid, database, null, apiUrl);

    /// <param name="flushDelay">The flush delay (<c>SitMessenger:FlushDelay</c> of the AppHost); null keeps its default.</param>
    public static async Task<BenchTarget> StartOwnAsync(TimeSpan? flushDelay, CancellationToken cancellationToken)
    {
        Progress.Write("Starting a complete system (PostgreSQL, Redis, RabbitMQ, migrations, Api, Worker, Scheduler, Gateway)...");
        // One address sends everything here: the Gateway's per-address and per-user limits would measure themselves.
        var settings = new Dictionary<string, string?>
        {
            ["Services:gateway:RateLimits:Enabled"] = "false",
        };
        if (flushDelay is TimeSpan delay)
        {
            settings["SitMessenger:FlushDelay"] = delay.ToString("c", CultureInfo.InvariantCulture);
        }

        SitMessengerSystem app;
        try
        {
            // Its console is the benchmark's: the AppHost's and the resources' logs go only to the state folder.
            app = await SitMessengerSystem.StartAsync(settings, progress: Progress.Write, consoleLogs: false, cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new SetupException($"The system did not start: {ex.Message}");
        }

        var gateway = app.GetEndpoint("gateway");
        Progress.Write($"All resources healthy. Gateway {gateway}");
        return new BenchTarget(
            gateway, $"{gateway} (own system, state folder {app.StateDirectory})", app, null, await app.GetConnectionStringAsync("sitdb"),
            flushDelay ?? new FlushOptions().Delay);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            Progress.Write("Stopping the system...");
            await _app.DisposeAsync();
            Progress.Write("Stopped; state folder removed.");
        }
    }
}
