using System.Globalization;
using System.Text;
using SitMessenger.Chat.Messaging;
using SitMessenger.Worker.Jobs;
using static Microsoft.Extensions.Hosting.OperatorPages;

namespace SitMessenger.Worker.Apis;

/// <summary>One part of a page: what was read, or why it could not be (Redis or RabbitMQ down); each part fails alone.</summary>
internal sealed record PageSection<T>(IReadOnlyList<T> Items, string? Unavailable = null)
{
    public static PageSection<T> Failed(string reason) => new([], reason);
}

/// <param name="MaxAttempts">This Worker's attempts before a dead letter, to show "attempt 2 of 5".</param>
internal sealed record JobsPageModel(
    DateTimeOffset Now,
    int MaxAttempts,
    PageSection<QueueDepth> Queues,
    PageSection<DeadLetterView> DeadLetters,
    PageSection<JobEventView> Events);

/// <summary>
/// The jobs page (what Flower showed): queue depths, the dead letters (requeued from the dashboard), and the recent job
/// events. A pure function of its data, so it is tested without servers. Every piece of data is encoded: job errors
/// are exception messages, and a message on a queue can claim any type or id.
/// </summary>
internal static class JobsPage
{
    // The action needs the operator key, which a page must not hold (see OperatorPages): the dashboard's command sends it.
    public const string RequeueHint = "Requeue them with the worker's \"Requeue dead letters\" command in the Aspire dashboard.";

    private static readonly JobState[] Outcomes = [JobState.Succeeded, JobState.Failed, JobState.Retried, JobState.DeadLettered, JobState.Requeued];

    public static string Render(JobsPageModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var html = new StringBuilder();
        html.Append("<h1>Jobs</h1>\n<p class=\"meta\">As of ").Append(Time(model.Now))
            .Append(CultureInfo.InvariantCulture, $"; reloads every {RefreshSeconds} s. Job events are shared by every Worker.</p>\n");
        Queues(html, model.Queues);
        DeadLetters(html, model.DeadLetters, model.Queues);
        Events(html, model.Events, model.MaxAttempts);
        return Document("SIT Messenger: jobs", html.ToString());
    }

    private static void Queues(StringBuilder html, PageSection<QueueDepth> queues)
    {
        html.Append("<h2>Queues</h2>\n");
        if (Unavailable(html, queues))
        {
            return;
        }

        html.Append("<table id=\"queues\"><thead><tr><th>Queue</th><th>Holds</th><th>Messages</th><th>Consumers</th></tr></thead><tbody>\n");
        foreach (var queue in queues.Items)
        {
            html.Append("<tr>").Append(Cell(Encode(queue.Queue)));
            if (queue.Declared)
            {
                html.Append(Cell(Encode(queue.Role))).Append(Cell(Number(queue.Messages), "num")).Append(Cell(Number(queue.Consumers), "num"));
            }
            else
            {
                html.Append(Cell(Encode(queue.Role) + " <span class=\"meta\">(not declared yet)</span>")).Append(Cell(None, "num")).Append(Cell(None, "num"));
            }

            html.Append("</tr>\n");
        }

        html.Append("</tbody></table>\n");
    }

    private static void DeadLetters(StringBuilder html, PageSection<DeadLetterView> deadLetters, PageSection<QueueDepth> queues)
    {
        // The queue's depth is the whole count; the list is the first of them (a peek takes at most a page's worth).
        var total = queues.Items.FirstOrDefault(q => q.Queue == JobQueues.DeadLetters && q.Declared)?.Messages;
        html.Append("<h2>Dead letters");
        if (total is { } waiting)
        {
            html.Append(" <span class=\"meta\">(").Append(Number(waiting)).Append(" waiting)</span>");
        }

        html.Append("</h2>\n<p class=\"meta\" id=\"requeue\">").Append(Encode(RequeueHint)).Append("</p>\n");
        if (Unavailable(html, deadLetters))
        {
            return;
        }

        if (deadLetters.Items.Count == 0)
        {
            html.Append("<p class=\"empty\">No dead letters.</p>\n");
            return;
        }

        if (total > (uint)deadLetters.Items.Count)
        {
            html.Append("<p class=\"meta\">The first ").Append(Number(deadLetters.Items.Count)).Append(" of ").Append(Number(total.Value)).Append(".</p>\n");
        }

        html.Append("<table id=\"dead-letters\"><thead><tr><th>Job</th><th>Type</th><th>Chat</th><th>Failed on</th><th>Attempts</th><th>Failed at</th><th>Reason</th></tr></thead><tbody>\n");
        foreach (var letter in deadLetters.Items)
        {
            html.Append("<tr>")
                .Append(Cell(TextOrNone(letter.JobId)))
                .Append(Cell(Encode(letter.Type)))
                .Append(Cell(TextOrNone(letter.ChatId?.ToString())))
                .Append(Cell(TextOrNone(letter.Queue)))
                .Append(Cell(Number(letter.Attempts), "num"))
                .Append(Cell(Time(letter.FailedAt)))
                .Append(Cell(TextOrNone(letter.Error), "detail"))
                .Append("</tr>\n");
        }

        html.Append("</tbody></table>\n");
    }

    private static void Events(StringBuilder html, PageSection<JobEventView> events, int maxAttempts)
    {
        html.Append("<h2>Recent job events</h2>\n");
        if (Unavailable(html, events))
        {
            return;
        }

        if (events.Items.Count == 0)
        {
            html.Append("<p class=\"empty\">No job events yet.</p>\n");
            return;
        }

        // A tally of what the shown events came to; the metrics (sit.jobs.outcomes) hold the rates over time.
        html.Append("<p class=\"meta\" id=\"tally\">The newest ").Append(Number(events.Items.Count)).Append(':');
        foreach (var outcome in Outcomes)
        {
            var name = outcome.ToString();
            var count = events.Items.Count(e => e.State == name);
            html.Append(" <span class=\"").Append(name).Append("\">").Append(name).Append(' ').Append(Number(count)).Append("</span>");
        }

        html.Append("</p>\n");
        html.Append("<table id=\"events\"><thead><tr><th>At</th><th>Type</th><th>Chat</th><th>Queue</th><th>Job</th><th>State</th><th>Runtime</th><th>Attempt</th><th>Detail / error</th></tr></thead><tbody>\n");
        foreach (var e in events.Items)
        {
            // The state names a CSS class only when it is one of ours: the stream's text is data, not markup.
            var stateClass = Enum.TryParse<JobState>(e.State, ignoreCase: false, out var state) && Enum.IsDefined(state) ? state.ToString() : null;
            html.Append("<tr>")
                .Append(Cell(Time(e.At)))
                .Append(Cell(Encode(e.Type)))
                .Append(Cell(TextOrNone(e.ChatId?.ToString())))
                .Append(Cell(TextOrNone(e.Queue)))
                .Append(Cell(ShortId(e.JobId)))
                .Append(Cell(Encode(e.State), stateClass))
                .Append(Cell(e.DurationMs is { } ms ? Runtime(ms) : None, "num"))
                .Append(Cell(Attempt(e.Attempt, maxAttempts), "num"))
                .Append(Cell(TextOrNone(e.Detail), "detail"))
                .Append("</tr>\n");
        }

        html.Append("</tbody></table>\n");
    }

    private static bool Unavailable<T>(StringBuilder html, PageSection<T> section)
    {
        if (section.Unavailable is null)
        {
            return false;
        }

        html.Append("<p class=\"unavailable\">Unavailable: ").Append(Encode(section.Unavailable)).Append("</p>\n");
        return true;
    }


    /// <summary>Job ids are 32 hex digits; the first 8 tell them apart on a page, the whole id is in the tooltip.</summary>
    private static string ShortId(string id) =>
        id.Length <= 12 ? TextOrNone(id) : $"<span title=\"{Encode(id)}\">{Encode(id[..8])}…</span>";

    private static string Runtime(double ms) =>
        ms < 1000
            ? ms.ToString("0.0", CultureInfo.InvariantCulture) + " ms"
            : (ms / 1000).ToString("0.00", CultureInfo.InvariantCulture) + " s";

    private static string Attempt(int attempt, int maxAttempts) =>
        attempt <= 0 ? None : string.Create(CultureInfo.InvariantCulture, $"{attempt} of {maxAttempts}");
}
