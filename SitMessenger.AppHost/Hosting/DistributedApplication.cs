using System.Globalization;
using System.Runtime.InteropServices;

namespace SitMessenger.AppHost.Hosting;

/// <summary>The built application model: starts, watches and stops every resource; shaped like Aspire's.</summary>
public sealed class DistributedApplication : IAsyncDisposable
{
    [ThreadStatic]
    private static TestingHook? t_testingHook;

    private readonly DistributedApplicationBuilder _builder;
    private readonly ResourceOrchestrator _orchestrator;
    private readonly StartupProgress _progress;
    private Dashboard.DashboardServer? _dashboard;
    private StateFolderLock? _stateLock;
    private int _stopped;
    private int _disposed;

    internal DistributedApplication(DistributedApplicationBuilder builder, string stateDirectory, int? dashboardPort)
    {
        _builder = builder;
        StateDirectory = stateDirectory;
        DashboardPort = dashboardPort;
        _progress = new StartupProgress(builder.Options.ConsoleOutput);
        var context = new RunContext(stateDirectory, builder.EnvironmentName, new BinaryLocator(builder.Options.BinarySearchPath));
        _orchestrator = new ResourceOrchestrator(builder.Resources, context, builder.Options, _progress);
    }

    public static DistributedApplicationBuilder CreateBuilder(string[] args)
    {
        var hook = t_testingHook;
        t_testingHook = null;
        return new DistributedApplicationBuilder(args, hook);
    }

    internal static void SetTestingHook(TestingHook hook) => t_testingHook = hook;

    public string StateDirectory { get; }

    public int? DashboardPort { get; }

    public IReadOnlyList<Resource> Resources => _builder.Resources;

    public Resource GetResource(string name) =>
        _builder.Resources.FirstOrDefault(r => r.Name == name) ?? throw new ArgumentException($"No resource named '{name}'.", nameof(name));

    public string GetConnectionString(string name) =>
        GetResource(name) is IResourceWithConnectionString withConnectionString
            ? withConnectionString.ConnectionString
            : throw new ArgumentException($"Resource '{name}' has no connection string.", nameof(name));

    public Uri GetEndpoint(string name, string endpointName = "http") =>
        GetResource(name).Endpoints.FirstOrDefault(e => e.Name == endpointName)?.Url
        ?? throw new ArgumentException($"Resource '{name}' has no endpoint '{endpointName}'.", nameof(name));

    public ResourceLog GetLog(string name) => _orchestrator.Runners[name].Log;

    public IReadOnlyList<ResourceSnapshot> GetSnapshots() =>
        [.. _builder.Resources.Where(r => r is not ParameterResource).Select(Snapshot)];

    public ResourceSnapshot Snapshot(Resource resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        var endpoints = resource.Endpoints.Where(e => !e.IsInternal).Select(e => e.Url.ToString()).ToList();
        if (_orchestrator.Runners.TryGetValue(resource.Name, out var runner))
        {
            return new ResourceSnapshot(resource.Name, resource.Kind, runner.State, runner.ProcessId, runner.Restarts, runner.ExitCode, endpoints, runner.Detail);
        }

        var state = _orchestrator.InitializedStates.GetValueOrDefault(resource.Name, ResourceState.NotStarted);
        return new ResourceSnapshot(resource.Name, resource.Kind, state, null, 0, null, endpoints, null);
    }

    /// <summary>Starts everything and returns when every resource is healthy (or has finished, for one-shot jobs).</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        _progress.Write($"SIT Messenger AppHost: state folder {StateDirectory}");
        _stateLock = StateFolderLock.Acquire(StateDirectory);
        var leftovers = await StateFolderLock.StopLeftoversAsync(StateDirectory, _builder.Options.StopTimeout);
        if (leftovers.Count > 0)
        {
            _progress.Write($"Stopped {leftovers.Count} process(es) an earlier AppHost left running on this state folder.");
        }

        _orchestrator.CheckPrerequisites();

        if (DashboardPort is int port)
        {
            _dashboard = await Dashboard.DashboardServer.StartAsync(this, port, cancellationToken);
            _progress.Write($"Dashboard: {_dashboard.Url}");
        }

        await _orchestrator.StartAllAsync(cancellationToken);
        _progress.Write(string.Create(CultureInfo.InvariantCulture, $"All resources are healthy after {_progress.Elapsed.TotalSeconds:0.0} s."));
        if (_builder.Options.ConsoleOutput)
        {
            Console.WriteLine(ResourceTable());
        }
    }

    /// <summary>Stops one resource, as an operator would from the dashboard; it stays down until started again.</summary>
    public Task StopResourceAsync(string name) => _orchestrator.Runners[name].StopAsync();

    /// <summary>Starts a stopped resource again and returns once it is healthy.</summary>
    public Task StartResourceAsync(string name, CancellationToken cancellationToken = default) =>
        _orchestrator.Runners[name].StartAsync(cancellationToken);

    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        _progress.Write("Stopping...");
        await _orchestrator.StopAllAsync();
        if (_dashboard is not null)
        {
            await _dashboard.DisposeAsync();
        }

        _progress.Write("Stopped.");
    }

    /// <summary>Runs until Ctrl+C or SIGTERM, then stops everything. A failed start exits with code 1 and says why.</summary>
    public void Run() => RunAsync().GetAwaiter().GetResult();

    public async Task RunAsync()
    {
        using var shutdown = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            shutdown.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        try
        {
            await StartAsync(shutdown.Token);
            if (DashboardPort is not null || _builder.Options.ConsoleOutput)
            {
                _progress.Write("Press Ctrl+C to stop.");
            }

            await Task.Delay(Timeout.Infinite, shutdown.Token);
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is ResourceStartException or AggregateException)
        {
            await Console.Error.WriteLineAsync($"Start-up failed. {ex.Message}");
            Environment.ExitCode = 1;
        }
        finally
        {
            await DisposeAsync();
        }
    }

    public string ResourceTable()
    {
        var rows = GetSnapshots()
            .Select(s => (s.Name, s.Kind, State: s.State.ToString(), Endpoint: string.Join(' ', s.Endpoints)))
            .ToList();
        if (DashboardPort is int port)
        {
            rows.Add(("dashboard", "Dashboard", "Healthy", $"http://localhost:{port}/"));
        }

        var widths = (Name: rows.Max(r => r.Name.Length), Kind: rows.Max(r => r.Kind.Length), State: rows.Max(r => r.State.Length));
        var lines = new List<string>
        {
            $"  {"Resource".PadRight(widths.Name)}  {"Type".PadRight(widths.Kind)}  {"State".PadRight(widths.State)}  Endpoint",
        };
        lines.AddRange(rows.Select(r => $"  {r.Name.PadRight(widths.Name)}  {r.Kind.PadRight(widths.Kind)}  {r.State.PadRight(widths.State)}  {r.Endpoint}"));
        return string.Join(Environment.NewLine, lines);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await StopAsync();
        await _orchestrator.DisposeAsync();
        _stateLock?.Dispose();
    }
}
