using System.Text.RegularExpressions;
using SitMessenger.Chat.Messaging;
using SitMessenger.Worker.Apis;
using SitMessenger.Worker.Jobs;

namespace SitMessenger.UnitTests.Worker;

public sealed partial class JobsPageTests
{
    private static readonly DateTimeOffset Now = new(2025, 3, 14, 12, 0, 0, TimeSpan.Zero);
    private static readonly Guid Chat = Guid.Parse("0192d4a5-7c1e-7000-8000-0000000000aa");
    private const string Hostile = "<script>alert('x')</script>\" onmouseover=\"alert(1)";

    [Fact]
    public void A_job_error_is_html_encoded_on_the_jobs_page()
    {
        var html = Render(events: [Event("job-1", JobState.Failed, detail: Hostile)]);

        Assert.Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot; onmouseover=&quot;alert(1)", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>alert", html, StringComparison.Ordinal);
        Assert.DoesNotContain("\" onmouseover=", html, StringComparison.Ordinal);
        // The page's own script is the only one.
        Assert.Single(ScriptTag().Matches(html));
    }

    [Fact]
    public void A_dead_letter_reason_and_a_type_a_message_made_up_are_html_encoded()
    {
        var html = Render(deadLetters: [new DeadLetterView("<b>id</b>", "<img src=x>", 5, Hostile, "2025-03-14T11:59:00.0000000+00:00", JobQueues.Jobs)]);

        Assert.Contains("&lt;img src=x&gt;", html, StringComparison.Ordinal);
        Assert.Contains("&lt;b&gt;id&lt;/b&gt;", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>id", html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_state_the_stream_does_not_know_is_shown_as_text_and_names_no_css_class()
    {
        var html = Render(events: [Event("job-1", JobState.Succeeded) with { State = "x\" onclick=\"alert(1)" }]);

        Assert.Contains("<td>x&quot; onclick=&quot;alert(1)</td>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("onclick=\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public void The_jobs_page_lists_every_event_it_is_given_with_type_chat_state_runtime_attempt_and_error()
    {
        var html = Render(events:
        [
            Event("0192d4a57c1e70008000000000000001", JobState.Succeeded, JobTypes.FlushChat, Chat, durationMs: 12.34, detail: "moved 120 messages"),
            Event("0192d4a57c1e70008000000000000002", JobState.Retried, JobTypes.CompactSegments, attempt: 2, detail: "attempt 3 in 2 s"),
            Event("0192d4a57c1e70008000000000000003", JobState.Failed, JobTypes.SweepPending, durationMs: 2500, detail: "database is down"),
        ]);

        var rows = Rows(Table(html, "events"));
        Assert.Equal(3, rows.Count);
        Assert.Contains(JobTypes.FlushChat, rows[0], StringComparison.Ordinal);
        Assert.Contains(Chat.ToString(), rows[0], StringComparison.Ordinal);
        Assert.Contains("<td class=\"Succeeded\">Succeeded</td>", rows[0], StringComparison.Ordinal);
        Assert.Contains("12.3 ms", rows[0], StringComparison.Ordinal);
        Assert.Contains("moved 120 messages", rows[0], StringComparison.Ordinal);
        Assert.Contains("title=\"0192d4a57c1e70008000000000000001\"", rows[0], StringComparison.Ordinal);
        Assert.Contains("2025-03-14 11:58:00Z", rows[0], StringComparison.Ordinal);
        Assert.Contains("<td class=\"Retried\">Retried</td>", rows[1], StringComparison.Ordinal);
        Assert.Contains("2 of 5", rows[1], StringComparison.Ordinal);
        Assert.Contains("<td class=\"Failed\">Failed</td>", rows[2], StringComparison.Ordinal);
        Assert.Contains("2.50 s", rows[2], StringComparison.Ordinal);
        Assert.Contains("database is down", rows[2], StringComparison.Ordinal);
        Assert.Contains("Succeeded 1</span> <span class=\"Failed\">Failed 1</span> <span class=\"Retried\">Retried 1</span>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void The_jobs_page_lists_the_dead_letters_with_reason_attempts_and_time_and_points_to_the_dashboard_to_requeue()
    {
        var html = Render(deadLetters:
        [
            new DeadLetterView("job-a", JobTypes.FlushChat, 5, "segment store is full", "2025-03-14T11:59:00.0000000+00:00", JobQueues.Flush, Chat),
            new DeadLetterView("job-b", "(malformed)", 0, "body is not a job", null, null),
        ]);

        var rows = Rows(Table(html, "dead-letters"));
        Assert.Equal(2, rows.Count);
        Assert.Contains("segment store is full", rows[0], StringComparison.Ordinal);
        Assert.Contains("<td class=\"num\">5</td>", rows[0], StringComparison.Ordinal);
        Assert.Contains("2025-03-14 11:59:00Z", rows[0], StringComparison.Ordinal);
        Assert.Contains(Chat.ToString(), rows[0], StringComparison.Ordinal);
        Assert.Contains(JobQueues.Flush, rows[0], StringComparison.Ordinal);
        Assert.Contains("body is not a job", rows[1], StringComparison.Ordinal);
        // The action needs the operator key, which the page does not hold: no button, the dashboard's command instead.
        Assert.DoesNotContain("<button", html, StringComparison.Ordinal);
        Assert.Contains("Requeue dead letters", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Queue_depths_and_consumer_counts_show_and_the_dead_letter_count_comes_from_its_queue()
    {
        var html = Render(
            queues:
            [
                new QueueDepth(JobQueues.Flush, "flush jobs", true, 12, 2),
                new QueueDepth(JobQueues.DeadLetters, "dead letters", true, 1500, 0),
                new QueueDepth("sit.delay.sit.jobs.8000ms", "retry: 8 s, then sit.jobs", false, 0, 0),
            ],
            deadLetters: [new DeadLetterView("job-a", JobTypes.SweepPending, 5, "boom", null, JobQueues.Jobs)]);

        var rows = Rows(Table(html, "queues"));
        Assert.Equal(3, rows.Count);
        Assert.Contains("<td>sit.flush</td><td>flush jobs</td><td class=\"num\">12</td><td class=\"num\">2</td>", rows[0], StringComparison.Ordinal);
        Assert.Contains("<td class=\"num\">1,500</td><td class=\"num\">0</td>", rows[1], StringComparison.Ordinal);
        Assert.Contains("not declared yet", rows[2], StringComparison.Ordinal);
        Assert.Contains("(1,500 waiting)", html, StringComparison.Ordinal);
        Assert.Contains("The first 1 of 1,500.", html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_part_whose_store_is_down_says_why_and_the_other_parts_still_show()
    {
        var html = Render(
            [new QueueDepth(JobQueues.Jobs, "scheduled jobs", true, 0, 1)],
            [],
            PageSection<JobEventView>.Failed("It was not possible to connect to the redis server(s) <cache:6379>"));

        Assert.Contains("Unavailable: It was not possible to connect to the redis server(s) &lt;cache:6379&gt;", html, StringComparison.Ordinal);
        Assert.Single(Rows(Table(html, "queues")));
        Assert.Contains("No dead letters.", html, StringComparison.Ordinal);
    }

    [Fact]
    public void The_watched_queues_are_the_job_queues_and_each_delay_queue_the_configuration_publishes_to_once()
    {
        var jobs = new JobOptions { MaxAttempts = 5, RetryBaseDelay = TimeSpan.FromSeconds(1), RetryMaxDelay = TimeSpan.FromSeconds(4) };
        var flush = new FlushOptions { Delay = TimeSpan.FromSeconds(2) };

        var names = JobQueueDepths.Watched(jobs, flush).Select(q => q.Name).ToList();

        // Retries wait 1, 2, 4, 4 s (capped); the flush delay of 2 s shares the 2 s retry queue of sit.flush.
        Assert.Equal(
        [
            JobQueues.Flush, JobQueues.Jobs, JobQueues.DeadLetters,
            "sit.delay.sit.flush.1000ms", "sit.delay.sit.flush.2000ms", "sit.delay.sit.flush.4000ms",
            "sit.delay.sit.jobs.1000ms", "sit.delay.sit.jobs.2000ms", "sit.delay.sit.jobs.4000ms",
        ], names);
        Assert.Equal(JobQueues.DelayQueueName(JobQueues.Flush, flush.Delay), names[4]);
    }

    private static string Render(
        IReadOnlyList<QueueDepth>? queues = null,
        IReadOnlyList<DeadLetterView>? deadLetters = null,
        IReadOnlyList<JobEventView>? events = null) =>
        Render(queues ?? [], deadLetters ?? [], events is null ? new PageSection<JobEventView>([]) : new PageSection<JobEventView>(events));

    private static string Render(IReadOnlyList<QueueDepth> queues, IReadOnlyList<DeadLetterView> deadLetters, PageSection<JobEventView> events) =>
        JobsPage.Render(new JobsPageModel(Now, 5, new PageSection<QueueDepth>(queues), new PageSection<DeadLetterView>(deadLetters), events));

    private static JobEventView Event(string jobId, JobState state, string type = JobTypes.SweepPending, Guid? chatId = null, int attempt = 1, double? durationMs = null, string detail = "") =>
        new("1-0", jobId, type, attempt, state.ToString(), "2025-03-14T11:58:00.0000000+00:00", durationMs, detail, chatId, chatId is null ? JobQueues.Jobs : JobQueues.Flush);

    private static string Table(string html, string id)
    {
        var start = html.IndexOf($"<table id=\"{id}\">", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no table #{id} on the page");
        return html[start..(html.IndexOf("</table>", start, StringComparison.Ordinal) + "</table>".Length)];
    }

    private static List<string> Rows(string table) =>
        [.. BodyRow().Matches(table[table.IndexOf("<tbody>", StringComparison.Ordinal)..]).Select(m => m.Value)];

    [GeneratedRegex("<tr>.*?</tr>", RegexOptions.Singleline)]
    private static partial Regex BodyRow();

    [GeneratedRegex("<script", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptTag();
}
