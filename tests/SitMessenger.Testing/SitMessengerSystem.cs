using System.Collections.Concurrent;
using System.Globalization;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SitMessenger.Hosting.LocalServers;

namespace SitMessenger.Testing;

/// <summary>One resource as the AppHost last reported it.</summary>
public sealed record ResourceStatus(string Name, string ResourceId, string? State, string? Health, int? ProcessId, int? ExitCode)
{
    public bool IsHealthy => State == KnownResourceStates.Running && Health == "Healthy";
}

/// <summary>
/// The whole system (PostgreSQL, Redis, RabbitMQ, migrations, Api, Worker, Scheduler, Gateway) started from the real
/// AppHost project through Aspire.Hosting.Testing, on free ports and a state folder of its own.
/// </summary>
public sealed class SitMessengerSystem : IAsyncDisposable
{
    private static readonly string[] Services = ["api", "worker", "scheduler", "gateway"];
    // Aspire's KnownProperties.Executable.Pid, which it keeps internal.
    private const string ProcessIdProperty = "executable.pid";
    private readonly ConcurrentDictionary<string, ResourceStatus> _latest = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> _logWriters = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _watching = new();
    private Task _watcher = Task.CompletedTask;
    private int _disposed;

    private SitMessengerSystem(DistributedApplication app, string stateDirectory, bool ownsStateDirectory)
    {
        App = app;
        StateDirectory = stateDirectory;
        OwnsStateDirectory = ownsStateDirectory;
    }

    public DistributedApplication App { get; }

    public string StateDirectory { get; }

    private bool OwnsStateDirectory { get; }

    /// <summary>How long the whole system may take to become healthy.</summary>
    public static readonly TimeSpan StartupBudget = TimeSpan.FromMinutes(3);

    /// <summary>
    /// Builds the AppHost's model with <paramref name="settings"/> (configuration keys as in appsettings, e.g.
    /// <c>Services:gateway:RateLimits:Enabled</c>), starts it and waits until every service is healthy.
    /// </summary>
    /// <param name="consoleLogs">
    /// True (the tests'): the AppHost logs to the console as it does for a user, the resources' output forwarded too.
    /// False (a benchmark's, whose console holds its figures): only the AppHost's own warnings and errors and Aspire's
    /// errors; the resources' output is still recorded under <see cref="LogPath"/>.
    /// </param>
    public static async Task<SitMessengerSystem> StartAsync(
        IReadOnlyDictionary<string, string?>? settings = null,
        string? stateDirectory = null,
        Action<string>? progress = null,
        bool dashboard = false,
        bool consoleLogs = true,
        CancellationToken cancellationToken = default)
    {
        var ownsState = stateDirectory is null;
        stateDirectory ??= Directory.CreateTempSubdirectory("sit-system-").FullName;
        var arguments = new List<string>
        {
            $"--AppHost:StateDirectory={stateDirectory}",
            "--AppHost:GatewayPort=0",
            "--AppHost:GatewayHttpsPort=0",
        };
        arguments.AddRange((settings ?? new Dictionary<string, string?>()).Select(s => $"--{s.Key}={s.Value}"));
        var browserToken = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        if (dashboard)
        {
            // The testing builder gives the dashboard and its OTLP endpoint free ports; the resource service too when
            // its launch-profile address is emptied. A known token lets a test log in as a user would with the printed URL.
            arguments.Add($"--ASPIRE_DASHBOARD_FRONTEND_BROWSERTOKEN={browserToken}");
            arguments.Add("--ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL=");
        }

        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.SitMessenger_AppHost>([.. arguments], (options, _) =>
        {
            options.DisableDashboard = !dashboard;
            options.AllowUnsecuredTransport = dashboard;
        }, cancellationToken);
        if (!consoleLogs)
        {
            QuietConsole(builder.Services);
        }

        var app = await builder.BuildAsync(cancellationToken);
        var system = new SitMessengerSystem(app, stateDirectory, ownsState) { BrowserToken = dashboard ? browserToken : null };
        system._watcher = system.WatchAsync(progress, system._watching.Token);
        try
        {
            using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            budget.CancelAfter(StartupBudget);
            await app.StartAsync(budget.Token);
            await Task.WhenAll(Services.Select(s => app.ResourceNotifications.WaitForResourceHealthyAsync(s, budget.Token)));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var states = string.Join(", ", system._latest.Values.OrderBy(s => s.Name).Select(s => $"{s.ResourceId} {s.State}/{s.Health}"));
            await system.DisposeAsync();
            throw new TimeoutException($"The system was not healthy within {StartupBudget.TotalMinutes:0} minutes: {states}");
        }
        catch
        {
            await system.DisposeAsync();
            throw;
        }

        return system;
    }

    private static void QuietConsole(IServiceCollection services)
    {
        // After every other configuration (Aspire's defaults, the command line's Logging:LogLevel), so these rules are
        // the only ones. The forwarded resource output is logged under "<AppHost>.Resources.<resource>", and the health
        // checks' failures (every probe while a server starts or stops, with its stack trace) under Microsoft.*.
        services.PostConfigure<LoggerFilterOptions>(filters =>
        {
            filters.Rules.Clear();
            filters.MinLevel = LogLevel.None;
            filters.Rules.Add(new LoggerFilterRule(null, "SitMessenger.AppHost", LogLevel.Warning, null));
            filters.Rules.Add(new LoggerFilterRule(null, "SitMessenger.AppHost.Resources", LogLevel.None, null));
            filters.Rules.Add(new LoggerFilterRule(null, "Aspire.Hosting", LogLevel.Error, null));
        });

        // The AppHost's start-up progress is printed to stdout, not logged; the caller's progress callback says the same.
        var reporters = services.Where(s => s.ServiceType == typeof(IHostedService)
            && s.ImplementationType?.FullName == "SitMessenger.AppHost.Extensions.StartupProgressReporter").ToList();
        foreach (var reporter in reporters)
        {
            services.Remove(reporter);
        }
    }

    public Uri GetEndpoint(string resource, string endpoint = "http") => App.GetEndpoint(resource, endpoint);

    /// <summary>The dashboard's login token when it was started with one; null without a dashboard.</summary>
    public string? BrowserToken { get; private init; }

    /// <summary>The URL the AppHost prints to log in to the dashboard (with its token).</summary>
    public Uri DashboardLoginUrl => BrowserToken is null
        ? throw new InvalidOperationException("This system was started without the dashboard (StartAsync(dashboard: true)).")
        : new Uri(App.GetEndpoint("aspire-dashboard", "http"), $"/login?t={BrowserToken}");

    /// <summary>The operator key the AppHost generated for this system (what the dashboard's commands send).</summary>
    public async Task<string> OperatorKeyAsync() =>
        await App.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ParameterResource>()
            .Single(p => p.Name == "operator-key").GetValueAsync(CancellationToken.None)
        ?? throw new InvalidOperationException("operator-key has no value.");

    public async Task<string> GetConnectionStringAsync(string resource) =>
        await App.GetConnectionStringAsync(resource) ?? throw new InvalidOperationException($"{resource} has no connection string.");

    /// <summary>A connection string; they are resolved once the system has started, so this does not block.</summary>
    public string GetConnectionString(string resource) => GetConnectionStringAsync(resource).GetAwaiter().GetResult();

    /// <summary>
    /// Where a resource's console output is recorded (all its replicas in one file), so tests can read what a service
    /// logged and search everything a run left behind, logs included.
    /// </summary>
    public string LogPath(string resource) => Path.Combine(StateDirectory, "logs", resource + ".log");

    /// <summary>The latest state of a resource (its first replica when it has several).</summary>
    public ResourceStatus Status(string name) =>
        _latest.Values.Where(s => s.Name == name).OrderBy(s => s.ResourceId, StringComparer.Ordinal).FirstOrDefault()
        ?? new ResourceStatus(name, name, null, null, null, null);

    /// <summary>Every replica of a service: locally each is a resource of its own, <c>api</c>, <c>api-1</c>, ...</summary>
    public IReadOnlyList<ResourceStatus> Replicas(string name) =>
        [.. _latest.Values.Where(s => s.Name == name || IsReplicaName(s.Name, name)).OrderBy(s => s.Name, StringComparer.Ordinal)];

    private static bool IsReplicaName(string candidate, string service) =>
        candidate.StartsWith(service + "-", StringComparison.Ordinal) && candidate[(service.Length + 1)..].All(char.IsAsciiDigit);

    /// <summary>
    /// The service's own process: the one DCP started (the AppHost runs the built assembly), or the deepest below it
    /// when the AppHost fell back to <c>dotnet run</c>, which runs the service as its child. Killing it is what a crash
    /// of the service looks like.
    /// </summary>
    public int? ServiceProcessId(string name) => Status(name).ProcessId is int pid ? LocalProcessTable.Deepest(pid) : null;

    public IReadOnlyList<ResourceStatus> Statuses() => [.. _latest.Values.OrderBy(s => s.ResourceId, StringComparer.Ordinal)];

    /// <summary>Stops every replica of a resource, as the dashboard's Stop does, and waits until it has exited.</summary>
    public async Task StopResourceAsync(string name, CancellationToken cancellationToken = default)
    {
        foreach (var replica in Replicas(name))
        {
            var result = await Commands.ExecuteCommandAsync(replica.ResourceId, KnownResourceCommands.StopCommand, cancellationToken);
            if (!result.Success)
            {
                throw new InvalidOperationException($"stop on {replica.ResourceId} failed: {result.Message}");
            }
        }

        await App.ResourceNotifications.WaitForResourceAsync(name, [KnownResourceStates.Exited, KnownResourceStates.Finished], cancellationToken);
    }

    private ResourceCommandService Commands => App.Services.GetRequiredService<ResourceCommandService>();

    /// <summary>Starts a stopped resource again and waits until it is healthy.</summary>
    public async Task StartResourceAsync(string name, CancellationToken cancellationToken = default)
    {
        foreach (var replica in Replicas(name))
        {
            await ExecuteAsync(replica.ResourceId, KnownResourceCommands.StartCommand, cancellationToken);
        }

        await WaitUntilHealthyAsync(name, cancellationToken);
    }

    public async Task WaitUntilHealthyAsync(string name, CancellationToken cancellationToken = default) =>
        await App.ResourceNotifications.WaitForResourceAsync(name,
            e => e.Snapshot.State?.Text == KnownResourceStates.Running && e.Snapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy,
            cancellationToken);

    private async Task ExecuteAsync(string resourceId, string command, CancellationToken cancellationToken)
    {
        var result = await Commands.ExecuteCommandAsync(resourceId, command, cancellationToken);
        if (!result.Success)
        {
            throw new InvalidOperationException($"{command} on {resourceId} failed: {result.Message}");
        }
    }

    private async Task WatchAsync(Action<string>? progress, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var change in App.ResourceNotifications.WatchAsync(cancellationToken))
            {
                var snapshot = change.Snapshot;
                var pid = snapshot.Properties.FirstOrDefault(p => p.Name == ProcessIdProperty)?.Value;
                var status = new ResourceStatus(change.Resource.Name, change.ResourceId, snapshot.State?.Text, snapshot.HealthStatus?.ToString(),
                    pid is null ? null : Convert.ToInt32(pid, CultureInfo.InvariantCulture), snapshot.ExitCode);
                var previous = _latest.GetValueOrDefault(change.ResourceId);
                _ = _logWriters.GetOrAdd(change.ResourceId, id => RecordLogAsync(change.Resource.Name, id, cancellationToken));
                _latest[change.ResourceId] = status;
                if (progress is not null && (previous?.State != status.State || previous?.Health != status.Health))
                {
                    progress($"  {change.ResourceId,-20} {status.State}{(status.Health is null ? "" : $" ({status.Health})")}");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RecordLogAsync(string name, string resourceId, CancellationToken cancellationToken)
    {
        var path = LogPath(name);
        // What the services print (user names, addresses) is for the owner only, like everything else in the state folder.
        Directory.CreateDirectory(Path.GetDirectoryName(path)!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            var logs = App.Services.GetRequiredService<ResourceLoggerService>();
            var lost = 0;
            await foreach (var batch in logs.WatchAsync(resourceId).WithCancellation(cancellationToken))
            {
                var text = string.Concat(batch.Select(line => line.Content + Environment.NewLine));
                if (lost > 0)
                {
                    text = string.Create(CultureInfo.InvariantCulture, $"[test harness: {lost} lines not recorded, the disk was full]{Environment.NewLine}") + text;
                }

                try
                {
                    await using var file = new FileStream(path, new FileStreamOptions
                    {
                        Mode = FileMode.Append,
                        Access = FileAccess.Write,
                        Share = FileShare.ReadWrite | FileShare.Delete,
                        UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                    });
                    await file.WriteAsync(System.Text.Encoding.UTF8.GetBytes(text), cancellationToken);
                    lost = 0;
                }
                catch (IOException)
                {
                    // The disk tests fill the state folder's disk on purpose; the record has a gap, the test goes on.
                    lost += batch.Count;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await App.StopAsync();
        await App.DisposeAsync();
        await _watching.CancelAsync();
        await _watcher;
        await Task.WhenAll(_logWriters.Values);
        _watching.Dispose();
        if (OwnsStateDirectory)
        {
            StateFolders.Delete(StateDirectory);
        }
    }
}
