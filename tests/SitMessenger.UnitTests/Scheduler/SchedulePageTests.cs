using SitMessenger.Chat.Messaging;
using SitMessenger.Scheduler.Apis;
using SitMessenger.Scheduler.Scheduling;

namespace SitMessenger.UnitTests.Scheduler;

public sealed class SchedulePageTests
{
    private static readonly DateTimeOffset Now = new(2025, 3, 14, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_failed_publish_reason_is_html_encoded_on_the_schedule_page()
    {
        var run = new JobRun(Now.AddSeconds(-5), "failed: <script>alert(1)</script> & \"more\"", null);

        var html = SchedulePage.Render(Snapshot(leader: "worker-1:abc", Status("compact-segments", run)), Now);

        Assert.Contains("failed: &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;more&quot;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>alert", html, StringComparison.Ordinal);
        Assert.Contains("<td class=\"detail Failed\">", html, StringComparison.Ordinal);
    }

    [Fact]
    public void The_schedule_page_lists_each_job_with_cron_last_run_next_run_and_points_to_the_dashboard_to_run_one_now()
    {
        var html = SchedulePage.Render(Snapshot("host-a:1",
            Status("compact-segments", new JobRun(Now.AddMinutes(-3), JobHistory.Published, "0192d4a57c1e70008000000000000009")),
            Status("sweep-pending", JobRun.None)), Now);

        Assert.Contains("<td>compact-segments</td>", html, StringComparison.Ordinal);
        Assert.Contains($"<td>{JobTypes.CompactSegments}</td>", html, StringComparison.Ordinal);
        Assert.Contains("<code>0 */5 * * * *</code>", html, StringComparison.Ordinal);
        Assert.Contains("2025-03-14 11:57:00Z", html, StringComparison.Ordinal);
        Assert.Contains("<td class=\"detail Succeeded\">published</td>", html, StringComparison.Ordinal);
        Assert.Contains("0192d4a57c1e70008000000000000009", html, StringComparison.Ordinal);
        // Next occurrence of */5 minutes after 12:00:00 is 12:05:00.
        Assert.Contains("2025-03-14 12:05:00Z</time> <span class=\"meta\">(in 5 min)</span>", html, StringComparison.Ordinal);
        Assert.Contains("2025-03-14 12:00:10Z</time> <span class=\"meta\">(in 10 s)</span>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<button", html, StringComparison.Ordinal);
        Assert.Contains("Run … now", html, StringComparison.Ordinal);
    }

    [Fact]
    public void The_schedule_page_names_the_leader_and_whether_this_instance_is_it()
    {
        var leading = SchedulePage.Render(Leadership("host-a:1", isLeader: true, instance: "host-a:1"), Now);
        var nobody = SchedulePage.Render(Leadership(leader: null, instance: "host-b:2"), Now);

        Assert.Contains("Leader: <strong>host-a:1</strong>", leading, StringComparison.Ordinal);
        Assert.Contains("host-a:1</span>, the leader.", leading, StringComparison.Ordinal);
        Assert.Contains("nothing is being scheduled", nobody, StringComparison.Ordinal);
        Assert.Contains("host-b:2</span>, a follower.", nobody, StringComparison.Ordinal);
    }

    [Fact]
    public void A_job_name_is_html_encoded()
    {
        var html = SchedulePage.Render(Snapshot("host-a:1", Status("a&b \"c\"", JobRun.None)), Now);

        Assert.Contains("<td>a&amp;b &quot;c&quot;</td>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_disabled_job_shows_no_next_run()
    {
        var html = SchedulePage.Render(Snapshot("host-a:1", Status("compact-segments", JobRun.None, enabled: false)), Now);

        Assert.Contains("disabled", html, StringComparison.Ordinal);
        Assert.DoesNotContain("12:05:00Z", html, StringComparison.Ordinal);
    }

    private static ScheduleSnapshot Snapshot(string? leader, params JobStatus[] jobs) =>
        new(leader, false, "host-z:9", jobs);

    private static ScheduleSnapshot Leadership(string? leader, bool isLeader = false, string instance = "host-z:9") =>
        new(leader, isLeader, instance, []);

    private static JobStatus Status(string name, JobRun run, bool enabled = true)
    {
        var (cron, type) = name == "sweep-pending" ? ("*/10 * * * * *", JobTypes.SweepPending) : ("0 */5 * * * *", JobTypes.CompactSegments);
        var job = ScheduledJob.TryCreate(name, new ScheduledJobOptions { Cron = cron, Type = type, Enabled = enabled }, out var error)
            ?? throw new InvalidOperationException(error);
        return new JobStatus(job, run, enabled ? job.NextOccurrence(Now) : null);
    }
}
