using Microsoft.Extensions.Configuration;
using SitMessenger.Chat.Messaging;
using SitMessenger.Scheduler.Scheduling;

namespace SitMessenger.UnitTests.Scheduler;

public sealed class ScheduleTests
{
    [Fact]
    public void The_dashboard_offers_a_run_now_command_for_exactly_the_jobs_the_scheduler_runs_by_default()
    {
        var defaults = new SchedulerOptions().Jobs;
        Assert.Equal(JobTypes.Recurring.Order(StringComparer.Ordinal), defaults.Keys.Order(StringComparer.Ordinal));
        Assert.All(defaults, job => Assert.Equal(job.Key, job.Value.Type));
    }

    private static readonly DateTimeOffset Noon = new(2025, 3, 14, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Default_options_are_valid_and_schedule_the_four_maintenance_jobs()
    {
        var options = new SchedulerOptions();

        Assert.True(new SchedulerOptionsValidator().Validate(null, options).Succeeded);
        var jobs = options.Jobs.ToDictionary(j => j.Key, j => ScheduledJob.TryCreate(j.Key, j.Value, out _)!);
        Assert.Equal(JobTypes.SweepPending, jobs["sweep-pending"].Type);
        Assert.Equal(JobTypes.DeleteExpiredTokens, jobs["delete-expired-tokens"].Type);
        Assert.Equal(JobTypes.RemoveOrphanSegments, jobs["remove-orphan-segments"].Type);
        Assert.Equal(JobTypes.CompactSegments, jobs["compact-segments"].Type);
        Assert.All(jobs.Values, job => Assert.Equal(JobQueues.Jobs, job.Queue));
        Assert.All(jobs.Values, job => Assert.True(job.Enabled));
    }

    [Theory]
    [InlineData("*/61 * * * * *")]
    [InlineData("0 */5 * * *")] // five fields: no seconds
    [InlineData("every minute")]
    [InlineData("")]
    public void Invalid_cron_is_refused_naming_the_job(string cron)
    {
        var options = new SchedulerOptions();
        options.Jobs["compact-segments"].Cron = cron;

        var result = new SchedulerOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        var failure = Assert.Single(result.Failures!);
        Assert.Contains("Scheduler:Jobs:compact-segments:Cron", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("no-such-job")]
    [InlineData(JobTypes.FlushChat)] // needs a chat; a timer has none
    [InlineData("")]
    public void Type_must_be_a_schedulable_job_type(string type)
    {
        var error = Refusal(new ScheduledJobOptions { Cron = "0 * * * * *", Type = type });

        Assert.Contains("Scheduler:Jobs:job:Type", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Queue_must_be_a_declared_job_queue()
    {
        var error = Refusal(new ScheduledJobOptions { Cron = "0 * * * * *", Type = JobTypes.CompactSegments, Queue = "sit.nowhere" });

        Assert.Contains("Scheduler:Jobs:job:Queue", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Renewing_no_more_often_than_the_lease_lasts_is_refused()
    {
        var options = new SchedulerOptions { LeaseDuration = TimeSpan.FromSeconds(10), RenewEvery = TimeSpan.FromSeconds(10) };

        var result = new SchedulerOptionsValidator().Validate(null, options);

        Assert.Contains(result.Failures!, f => f.Contains("RenewEvery", StringComparison.Ordinal));
    }

    [Fact]
    public void Configuration_changes_a_default_job_without_restating_it_and_adds_new_ones()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Scheduler:Jobs:sweep-pending:Cron"] = "*/30 * * * * *",
            ["Scheduler:Jobs:compact-segments:Enabled"] = "false",
            ["Scheduler:Jobs:nightly-compaction:Cron"] = "0 0 3 * * *",
            ["Scheduler:Jobs:nightly-compaction:Type"] = JobTypes.CompactSegments,
        }).Build();
        var options = new SchedulerOptions();

        configuration.GetSection(SchedulerOptions.SectionName).Bind(options);

        Assert.Equal(5, options.Jobs.Count);
        Assert.Equal("*/30 * * * * *", options.Jobs["sweep-pending"].Cron);
        Assert.Equal(JobTypes.SweepPending, options.Jobs["sweep-pending"].Type);
        Assert.False(options.Jobs["compact-segments"].Enabled);
        Assert.Equal("0 */5 * * * *", options.Jobs["compact-segments"].Cron);
        Assert.Equal(JobQueues.Jobs, options.Jobs["nightly-compaction"].Queue);
        Assert.True(new SchedulerOptionsValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void Next_occurrence_is_strictly_after_the_given_time_in_utc()
    {
        var sweep = Job("*/10 * * * * *");

        Assert.Equal(Noon.AddSeconds(10), sweep.NextOccurrence(Noon.AddSeconds(3)));
        Assert.Equal(Noon.AddSeconds(20), sweep.NextOccurrence(Noon.AddSeconds(10)));
        // An offset is only another way to write the same instant.
        Assert.Equal(Noon.AddSeconds(10), sweep.NextOccurrence(Noon.AddSeconds(3).ToOffset(TimeSpan.FromHours(2))));
    }

    [Fact]
    public void Hourly_job_runs_at_minute_17_of_every_hour()
    {
        var hourly = Job("0 17 * * * *");

        Assert.Equal(Noon.AddMinutes(17), hourly.NextOccurrence(Noon));
        Assert.Equal(Noon.AddHours(1).AddMinutes(17), hourly.NextOccurrence(Noon.AddMinutes(17)));
    }

    [Fact]
    public void Occurrences_between_exclude_the_start_and_include_the_end()
    {
        var sweep = Job("*/10 * * * * *");

        var due = sweep.OccurrencesBetween(Noon, Noon.AddSeconds(30)).ToList();

        Assert.Equal([Noon.AddSeconds(10), Noon.AddSeconds(20), Noon.AddSeconds(30)], due);
        Assert.Empty(sweep.OccurrencesBetween(Noon.AddSeconds(30), Noon.AddSeconds(30)));
        Assert.Empty(sweep.OccurrencesBetween(Noon.AddSeconds(1), Noon.AddSeconds(9)));
    }

    [Fact]
    public void Fired_marker_key_names_the_job_and_the_occurrence_in_unix_seconds()
    {
        Assert.Equal("scheduler:fired:sweep-pending:1741953600", JobDispatcher.FiredKey("sweep-pending", Noon));
    }

    [Fact]
    public void Fired_marker_outlives_the_catch_up_window()
    {
        var options = new SchedulerOptions();

        Assert.True(options.FiredMarkerLifetime > options.CatchUpWindow);
        // A take-over happens within the lease plus one follower round; the window must reach back that far.
        Assert.True(options.CatchUpWindow >= options.LeaseDuration + options.RenewEvery);
    }

    private static ScheduledJob Job(string cron) =>
        ScheduledJob.TryCreate("job", new ScheduledJobOptions { Cron = cron, Type = JobTypes.SweepPending }, out var error)
            ?? throw new InvalidOperationException(error);

    private static string Refusal(ScheduledJobOptions options)
    {
        Assert.Null(ScheduledJob.TryCreate("job", options, out var error));
        return error!;
    }
}
