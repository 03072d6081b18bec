using System.Globalization;
using SitMessenger.AppHost.Hosting;
using SitMessenger.AppHost.Hosting.Testing;

namespace SitMessenger.Bench.Load;

/// <summary>
/// The system under load: either one the benchmark starts itself through the AppHost's testing entry point (free ports,
/// temporary state folder, removed at the end), exactly as the system tests do, or a Gateway already running (--url).
/// </summary>
internal sealed class BenchTarget : IAsyncDisposable
{
    private static readonly TimeSpan StartupBudget = TimeSpan.FromMinutes(4);

    /// <summary>The AppHost's flush delay when <c>SitMessenger:FlushDelay</c> is not set (its Program.cs).</summary>
    private static readonly TimeSpan DefaultFlushDelay = TimeSpan.FromSeconds(20);

    private readonly DistributedApplication? _app;
    private readonly int? _apiPid;

    private BenchTarget(Uri gateway, string description, DistributedApplication? app, int? apiPid, string? database, TimeSpan? flushDelay)
    {
        Gateway = gateway;
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

    /// <summary>The Api's process now (a restarted Api has a new one); null when not known.</summary>
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
                return _app.Snapshot(_app.GetResource("api")).ProcessId;
            }
            catch (ArgumentException)
            {
                return null;
            }
        }
    }

    public static BenchTarget External(Uri gateway, int? apiPid, string? database) =>
        new(gateway, $"{gateway} (running system{(apiPid is null ? "; no --api-pid, so no memory figures" : string.Create(CultureInfo.InvariantCulture, $", Api pid {apiPid}"))})", null, apiPid, database, null);

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

        var app = DistributedApplicationTestingBuilder.Create<Program>(settings);
        Progress.Write($"State folder {app.StateDirectory}");
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(StartupBudget);
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watcher = WatchStartupAsync(app, watching.Token);
        try
        {
            await app.StartAsync(budget.Token);
        }
        catch (Exception ex)
        {
            await watching.CancelAsync();
            await watcher;
            var reason = ex is not OperationCanceledException ? ex.Message
                : cancellationToken.IsCancellationRequested ? "interrupted"
                : string.Create(CultureInfo.InvariantCulture, $"not healthy within {StartupBudget.TotalMinutes:0} minutes");
            Progress.Write($"Start-up failed: {reason}. Stopping what started...");
            await DisposeAppAsync(app);
            if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new SetupException($"The system did not start: {reason}");
        }

        await watching.CancelAsync();
        await watcher;
        var gateway = app.GetEndpoint("gateway");
        Progress.Write(string.Create(CultureInfo.InvariantCulture,
            $"All resources healthy. Gateway {gateway}{(app.DashboardPort is int port ? $", dashboard http://localhost:{port}/" : "")}"));
        return new BenchTarget(
            gateway, $"{gateway} (own system, state folder {app.StateDirectory})", app, null, app.GetConnectionString("sitdb"), flushDelay ?? DefaultFlushDelay);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            Progress.Write("Stopping the system...");
            await DisposeAppAsync(_app);
            Progress.Write("Stopped; state folder removed.");
        }
    }

    private static async Task DisposeAppAsync(DistributedApplication app)
    {
        await app.DisposeAsync();
        try
        {
            Directory.Delete(app.StateDirectory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Progress.Write($"Could not remove the state folder {app.StateDirectory}: {ex.Message}");
        }
    }

    /// <summary>Prints each resource's state changes while the system starts (its own progress output is off under testing).</summary>
    private static async Task WatchStartupAsync(DistributedApplication app, CancellationToken cancellationToken)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        try
        {
            do
            {
                IReadOnlyList<ResourceSnapshot> snapshots;
                try
                {
                    snapshots = app.GetSnapshots();
                }
                catch (InvalidOperationException)
                {
                    continue; // The orchestrator was changing its tables as we read them; the next tick reads again.
                }

                foreach (var snapshot in snapshots)
                {
                    var line = snapshot.State + (snapshot.Detail is { Length: > 0 } detail ? $" ({detail})" : "");
                    if (!seen.TryGetValue(snapshot.Name, out var previous) || previous != line)
                    {
                        seen[snapshot.Name] = line;
                        if (previous is not null || snapshot.State != ResourceState.NotStarted)
                        {
                            Progress.Write($"  {snapshot.Name,-12} {line}");
                        }
                    }
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException)
        {
        }
    }
}
