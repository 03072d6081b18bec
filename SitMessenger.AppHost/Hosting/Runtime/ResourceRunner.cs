using System.Diagnostics;
using System.Globalization;

namespace SitMessenger.AppHost.Hosting;

/// <summary>
/// Runs one resource's process: prepares it, starts it, waits until it is healthy, restarts it with backoff when
/// it crashes, and stops it with its own signal (then kills what is left of its process tree).
/// </summary>
internal sealed class ResourceRunner : IDisposable
{
    private static readonly TimeSpan HealthPollInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxRestartDelay = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StableAfter = TimeSpan.FromSeconds(30);

    private readonly IRunnableResource _runnable;
    private readonly RunContext _context;
    private readonly AppHostOptions _options;
    private readonly StartupProgress _progress;
    private CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private Process? _process;
    private Task? _supervision;

    public ResourceRunner(Resource resource, IRunnableResource runnable, RunContext context, AppHostOptions options, StartupProgress progress)
    {
        Resource = resource;
        _runnable = runnable;
        _context = context;
        _options = options;
        _progress = progress;
        Log = new ResourceLog(Path.Combine(context.StateDirectory, "logs", resource.Name + ".log"));
    }

    public Resource Resource { get; }

    public ResourceLog Log { get; }

    public ResourceState State { get; private set; } = ResourceState.NotStarted;

    public int Restarts { get; private set; }

    public int? ExitCode { get; private set; }

    public string? Detail { get; private set; }

    public int? ProcessId
    {
        get
        {
            lock (_gate)
            {
                return _process is { HasExited: false } process ? process.Id : null;
            }
        }
    }

    public void SetState(ResourceState state, string? detail = null)
    {
        State = state;
        Detail = detail;
        _progress.Report(Resource.Name, state, detail);
    }

    /// <summary>Starts the process and returns once it is healthy (or, for a one-shot job, has finished with exit code 0).</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_stopping.IsCancellationRequested)
        {
            // Started again after an operator's stop.
            _stopping.Dispose();
            _stopping = new CancellationTokenSource();
        }

        SetState(ResourceState.Starting);
        await _runnable.PrepareAsync(_context, cancellationToken);
        var process = Launch();

        if (_runnable.RunsToCompletion)
        {
            await process.WaitForExitAsync(cancellationToken);
            ExitCode = process.ExitCode;
            if (process.ExitCode != 0)
            {
                SetState(ResourceState.Exited, $"exit code {process.ExitCode}");
                throw new ResourceStartException(Resource.Name, $"exited with code {process.ExitCode}. Last output:{Environment.NewLine}{LastLines()}");
            }

            SetState(ResourceState.Finished);
            return;
        }

        await WaitUntilHealthyAsync(process, cancellationToken);
        _supervision = SuperviseAsync(process);
    }

    private Process Launch()
    {
        var startInfo = InOwnSession(_runnable.CreateStartInfo(_context));
        // Marks the process as this state folder's, so a later AppHost can find it if we are killed (see StateFolderLock).
        startInfo.Environment[StateFolderLock.MarkerVariable] = _context.StateDirectory;
        startInfo.UseShellExecute = false;
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        // A child must never read the operator's terminal (an Erlang shell would).
        startInfo.RedirectStandardInput = true;

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) Log.Append(e.Data, isError: false); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Log.Append(e.Data, isError: true); };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            process.Dispose();
            throw new ResourceStartException(Resource.Name, $"could not start {startInfo.FileName}: {ex.Message}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        lock (_gate)
        {
            _process = process;
        }

        SetState(ResourceState.Running, string.Create(CultureInfo.InvariantCulture, $"pid {process.Id}"));
        return process;
    }

    /// <summary>
    /// Ctrl+C in a terminal signals the whole foreground process group; children in their own session are spared,
    /// so the AppHost can stop them in order (Gateway first, PostgreSQL last) instead of all dying at once.
    /// setsid execs the command in place, so the process id stays the server's own.
    /// </summary>
    private static ProcessStartInfo InOwnSession(ProcessStartInfo startInfo)
    {
        const string SetSid = "/usr/bin/setsid";
        if (!File.Exists(SetSid))
        {
            return startInfo;
        }

        var wrapped = new ProcessStartInfo(SetSid)
        {
            WorkingDirectory = startInfo.WorkingDirectory,
            UserName = startInfo.UserName,
        };
        wrapped.ArgumentList.Add(startInfo.FileName);
        foreach (var argument in startInfo.ArgumentList)
        {
            wrapped.ArgumentList.Add(argument);
        }

        wrapped.Environment.Clear();
        foreach (var (key, value) in startInfo.Environment)
        {
            wrapped.Environment[key] = value;
        }

        return wrapped;
    }

    /// <summary>From now on an exit is expected: no restarts. Called for every resource as soon as shutdown starts.</summary>
    public void BeginStopping() => _stopping.Cancel();

    private async Task WaitUntilHealthyAsync(Process process, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        timeout.CancelAfter(_options.StartupTimeout);
        var last = HealthStatus.Unhealthy("not checked yet");
        try
        {
            while (true)
            {
                if (process.HasExited)
                {
                    ExitCode = process.ExitCode;
                    SetState(ResourceState.Exited, $"exit code {process.ExitCode}");
                    throw new ResourceStartException(Resource.Name,
                        $"exited with code {process.ExitCode} before it was healthy. Last output:{Environment.NewLine}{LastLines()}");
                }

                last = await _runnable.CheckHealthAsync(timeout.Token);
                if (last.IsHealthy)
                {
                    SetState(ResourceState.Healthy);
                    return;
                }

                await Task.Delay(HealthPollInterval, timeout.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && !_stopping.IsCancellationRequested)
        {
            throw new ResourceStartException(Resource.Name,
                $"not healthy after {_options.StartupTimeout.TotalSeconds:0} s ({last.Description}). Last output:{Environment.NewLine}{LastLines()}");
        }
    }

    /// <summary>Restarts the process whenever it exits on its own, waiting longer after each quick crash.</summary>
    private async Task SuperviseAsync(Process process)
    {
        var delay = TimeSpan.FromSeconds(1);
        while (!_stopping.IsCancellationRequested)
        {
            var startedAt = Stopwatch.GetTimestamp();
            try
            {
                await process.WaitForExitAsync(_stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            ExitCode = process.ExitCode;
            if (Stopwatch.GetElapsedTime(startedAt) > StableAfter)
            {
                delay = TimeSpan.FromSeconds(1);
            }

            Restarts++;
            SetState(ResourceState.Restarting,
                string.Create(CultureInfo.InvariantCulture, $"exited with code {process.ExitCode}; restart #{Restarts} in {delay.TotalSeconds:0} s"));
            try
            {
                await Task.Delay(delay, _stopping.Token);
                await _runnable.PrepareAsync(_context, _stopping.Token);
                process = Launch();
                await WaitUntilHealthyAsync(process, _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ResourceStartException ex)
            {
                // Keep trying: a dependency may come back. The dashboard and the log show why it is down.
                Log.Append($"[apphost] restart failed: {ex.Message}", isError: true);
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRestartDelay.Ticks));
        }
    }

    public async Task StopAsync()
    {
        await _stopping.CancelAsync();
        Process? process;
        lock (_gate)
        {
            process = _process;
        }

        if (process is not null && !process.HasExited)
        {
            SetState(ResourceState.Stopping);
            NativeSignals.Send(process.Id, _runnable.StopSignal);
            using var timeout = new CancellationTokenSource(_options.StopTimeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Log.Append($"[apphost] did not stop within {_options.StopTimeout.TotalSeconds:0} s; killing it", isError: true);
            }

            // Whatever the process left running (Erlang helpers, postgres backends) goes with it.
            KillTree(process);
        }

        if (_supervision is not null)
        {
            await _supervision;
            _supervision = null;
        }

        await _runnable.AfterStopAsync(_context);
        if (State is not ResourceState.Finished and not ResourceState.NotStarted)
        {
            SetState(ResourceState.Stopped);
        }
    }

    private static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public string LastLines(int count = 25) =>
        string.Join(Environment.NewLine, Log.Tail(count).Select(line => "    " + line.Text));

    public void Dispose()
    {
        lock (_gate)
        {
            _process?.Dispose();
        }

        _stopping.Dispose();
        Log.Dispose();
    }
}
