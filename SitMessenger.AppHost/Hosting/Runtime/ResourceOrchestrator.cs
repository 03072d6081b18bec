using System.Globalization;

namespace SitMessenger.AppHost.Hosting;

/// <summary>
/// Starts every resource once what it waits for is ready, in parallel where the model allows, and stops them
/// in the reverse order. A failure anywhere stops what was started and reports what failed.
/// </summary>
internal sealed class ResourceOrchestrator(
    IReadOnlyList<Resource> resources,
    RunContext context,
    AppHostOptions options,
    StartupProgress progress) : IAsyncDisposable
{
    private readonly Dictionary<Resource, TaskCompletionSource> _ready = resources.ToDictionary(r => r, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
    private readonly List<ResourceRunner> _started = [];
    private readonly Lock _gate = new();

    public Dictionary<string, ResourceRunner> Runners { get; } = resources
        .OfType<IRunnableResource>()
        .ToDictionary(r => r.Name, r => new ResourceRunner((Resource)r, r, context, options, progress));

    public Dictionary<string, ResourceState> InitializedStates { get; } = [];

    public void CheckPrerequisites()
    {
        var missing = Runners.Values
            .SelectMany(runner => ((IRunnableResource)runner.Resource).RequiredBinaries.Select(binary => (runner.Resource.Name, binary)))
            .Where(pair => context.Binaries.TryFind(pair.binary.Name) is null)
            .ToList();
        if (missing.Count > 0)
        {
            var first = missing[0];
            throw new ResourceStartException(first.Name, string.Join(Environment.NewLine, missing.Select(m => BinaryLocator.MissingMessage(m.binary))));
        }

        foreach (var endpoint in resources.SelectMany(r => r.Endpoints.Select(e => (r.Name, e))).Where(p => p.e.IsExternal))
        {
            if (!PortAllocator.IsFree(endpoint.e.Port))
            {
                throw new ResourceStartException(endpoint.Name,
                    string.Create(CultureInfo.InvariantCulture,
                        $"port {endpoint.e.Port} is in use. Stop what uses it (ss -ltnp 'sport = :{endpoint.e.Port}') or choose another port (--gateway-port)."));
            }
        }
    }

    public async Task StartAllAsync(CancellationToken cancellationToken)
    {
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var starts = resources.Select(resource => StartOneAsync(resource, failed)).ToList();
        try
        {
            await Task.WhenAll(starts);
        }
        catch
        {
            var errors = starts
                .Where(t => t.IsFaulted)
                .SelectMany(t => t.Exception!.InnerExceptions)
                .Where(e => e is not OperationCanceledException)
                .ToList();
            await StopAllAsync();
            if (errors.Count == 1)
            {
                throw errors[0];
            }

            if (errors.Count > 1)
            {
                throw new AggregateException("Start-up failed: " + string.Join("; ", errors.Select(e => e.Message)), errors);
            }

            throw;
        }
    }

    private async Task StartOneAsync(Resource resource, CancellationTokenSource failed)
    {
        try
        {
            var waits = resource.WaitsForHealthy.Concat(resource.WaitsForCompletion).Select(r => _ready[r].Task).ToList();
            if (waits.Count > 0)
            {
                Report(resource, ResourceState.Waiting, "for " + string.Join(", ", resource.WaitsForHealthy.Concat(resource.WaitsForCompletion).Select(r => r.Name)));
                await Task.WhenAll(waits).WaitAsync(failed.Token);
            }

            if (Runners.TryGetValue(resource.Name, out var runner))
            {
                lock (_gate)
                {
                    _started.Add(runner);
                }

                await runner.StartAsync(failed.Token);
            }
            else if (resource is IInitializedResource initialized)
            {
                Report(resource, ResourceState.Starting, null);
                await initialized.InitializeAsync(failed.Token);
                Report(resource, ResourceState.Healthy, null);
            }

            _ready[resource].TrySetResult();
        }
        catch (Exception ex)
        {
            _ready[resource].TrySetException(ex);
            if (ex is not OperationCanceledException)
            {
                Report(resource, ResourceState.FailedToStart, ex.Message.Split(Environment.NewLine)[0]);
            }

            await failed.CancelAsync();
            throw;
        }
    }

    private void Report(Resource resource, ResourceState state, string? detail)
    {
        if (Runners.TryGetValue(resource.Name, out var runner))
        {
            runner.SetState(state, detail);
            return;
        }

        lock (_gate)
        {
            InitializedStates[resource.Name] = state;
        }

        progress.Report(resource.Name, state, detail);
    }

    /// <summary>Stops dependents before what they depend on: the reverse of the order things were started in.</summary>
    public async Task StopAllAsync()
    {
        foreach (var runner in Runners.Values)
        {
            runner.BeginStopping();
        }

        List<ResourceRunner> toStop;
        lock (_gate)
        {
            toStop = [.. _started];
            _started.Clear();
        }

        for (var i = toStop.Count - 1; i >= 0; i--)
        {
            await toStop[i].StopAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAllAsync();
        foreach (var runner in Runners.Values)
        {
            runner.Dispose();
        }
    }
}
