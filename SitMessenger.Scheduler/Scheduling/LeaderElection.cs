using Microsoft.Extensions.Options;

namespace SitMessenger.Scheduler.Scheduling;

/// <summary>Runs the lease's election round every <see cref="SchedulerOptions.RenewEvery"/>; releases the lease on a graceful stop.</summary>
internal sealed partial class LeaderElection(
    SchedulerLease lease,
    IOptions<SchedulerOptions> options,
    TimeProvider time,
    ILogger<LeaderElection> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await lease.RenewOrAcquireAsync(stoppingToken);
                await Task.Delay(options.Value.RenewEvery, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The lease already handles Redis failures; anything else must not stop elections for good.
                LogRoundFailed(logger, ex);
                await Task.Delay(options.Value.RenewEvery, time, stoppingToken);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Registered before the scheduling loop, so stopped after it: nothing is published once the lease is gone.
        await base.StopAsync(cancellationToken);
        await lease.ReleaseAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Scheduler leader election round failed unexpectedly")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);
}
