using System.Collections.Concurrent;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SitMessenger.AppHost.Extensions;

/// <summary>Marks a long-running service or server that is started again when its process exits without being asked to.</summary>
internal sealed class RestartOnCrashAnnotation : IResourceAnnotation;

/// <summary>
/// DCP leaves an exited process exited. A service that crashes (killed, out of memory, an unhandled exception) or a
/// server that gives up (RabbitMQ ends itself, with code 0, when its disk fills) is started again with backoff (1 s, 2 s,
/// 4 s ... 30 s), as a process supervisor would. A resource stopped on purpose (the dashboard's Stop, a stop command)
/// passes through Stopping first and stays stopped, whatever its exit code: DCP reports -1 when it had to kill a process
/// that took long to end. Once the AppHost itself stops, nothing is started again.
/// </summary>
internal sealed partial class CrashedServiceRestarter(
    ResourceNotificationService notifications,
    ResourceCommandService commands,
    IHostApplicationLifetime lifetime,
    ILogger<CrashedServiceRestarter> logger) : BackgroundService
{
    private static readonly TimeSpan MaximumBackoff = TimeSpan.FromSeconds(30);
    // A service that stayed up this long is counted as recovered: its next crash starts the backoff again.
    private static readonly TimeSpan StableAfter = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, Crashes> _crashes = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // This service starts before Aspire's and so stops after them, while DCP ends every resource.
        using var running = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lifetime.ApplicationStopping);
        stoppingToken = running.Token;
        try
        {
            await foreach (var change in notifications.WatchAsync(stoppingToken))
            {
                if (!change.Resource.Annotations.OfType<RestartOnCrashAnnotation>().Any())
                {
                    continue;
                }

                var crashes = _crashes.GetOrAdd(change.ResourceId, _ => new Crashes());
                if (crashes.Observe(change.Snapshot) && crashes.TryClaim(change.Snapshot, out var backoff))
                {
                    LogCrashed(logger, change.ResourceId, change.Snapshot.ExitCode, backoff.TotalSeconds);
                    _ = RestartAsync(change.ResourceId, backoff, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RestartAsync(string resourceId, TimeSpan backoff, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(backoff, cancellationToken);
            var result = await commands.ExecuteCommandAsync(resourceId, KnownResourceCommands.StartCommand, cancellationToken);
            if (!result.Success)
            {
                LogRestartFailed(logger, resourceId, result.Message);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One service's crash history: each exit is acted on once, and the backoff grows while it keeps crashing.</summary>
    private sealed class Crashes
    {
        private readonly Lock _gate = new();
        private DateTime? _lastStopped;
        private DateTime _lastCrash = DateTime.MinValue;
        private TimeSpan _backoff = TimeSpan.Zero;
        private bool _stopping;

        /// <summary>Follows the states; true when this one is an exit that nobody asked for.</summary>
        public bool Observe(CustomResourceSnapshot snapshot)
        {
            lock (_gate)
            {
                var state = snapshot.State?.Text;
                if (state == KnownResourceStates.Stopping)
                {
                    _stopping = true;
                    return false;
                }

                if (state == KnownResourceStates.Starting || state == KnownResourceStates.Running)
                {
                    _stopping = false;
                    return false;
                }

                return !_stopping
                    && (state == KnownResourceStates.Exited || state == KnownResourceStates.Finished)
                    && snapshot.ExitCode is not null;
            }
        }

        public bool TryClaim(CustomResourceSnapshot snapshot, out TimeSpan backoff)
        {
            lock (_gate)
            {
                backoff = _backoff;
                // The same exit is reported by several snapshots (logs, health); its stop time identifies it.
                if (snapshot.StopTimeStamp is { } stopped && stopped == _lastStopped)
                {
                    return false;
                }

                _lastStopped = snapshot.StopTimeStamp;
                var now = DateTime.UtcNow;
                _backoff = now - _lastCrash > StableAfter
                    ? TimeSpan.FromSeconds(1)
                    : TimeSpan.FromTicks(Math.Min(MaximumBackoff.Ticks, Math.Max(TimeSpan.FromSeconds(1).Ticks, _backoff.Ticks * 2)));
                _lastCrash = now;
                backoff = _backoff;
                return true;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Resource} exited with code {ExitCode}; starting it again in {Seconds} s")]
    private static partial void LogCrashed(ILogger logger, string resource, int? exitCode, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Resource} could not be started again: {Reason}")]
    private static partial void LogRestartFailed(ILogger logger, string resource, string? reason);
}
