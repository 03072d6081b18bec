using Microsoft.Extensions.Options;

namespace SitMessenger.Scheduler.Scheduling;

/// <summary>Runs at start-up, so a bad cron stops the Scheduler with the job's name instead of silently never firing.</summary>
internal sealed class SchedulerOptionsValidator : IValidateOptions<SchedulerOptions>
{
    public ValidateOptionsResult Validate(string? name, SchedulerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        foreach (var (jobName, job) in options.Jobs)
        {
            if (job is null)
            {
                errors.Add($"{SchedulerOptions.SectionName}:Jobs:{jobName} is empty.");
            }
            else if (ScheduledJob.TryCreate(jobName, job, out var error) is null)
            {
                errors.Add(error!);
            }
        }

        if (options.LeaseDuration <= TimeSpan.Zero)
        {
            errors.Add($"{SchedulerOptions.SectionName}:LeaseDuration must be positive.");
        }

        if (options.RenewEvery <= TimeSpan.Zero || options.RenewEvery >= options.LeaseDuration)
        {
            // Renewing no more often than the lease lasts would let it lapse between renewals.
            errors.Add($"{SchedulerOptions.SectionName}:RenewEvery ({options.RenewEvery}) must be positive and shorter than LeaseDuration ({options.LeaseDuration}).");
        }

        if (options.PublishTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{SchedulerOptions.SectionName}:PublishTimeout must be positive.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
