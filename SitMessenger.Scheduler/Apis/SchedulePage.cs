using System.Globalization;
using System.Text;
using SitMessenger.Scheduler.Scheduling;
using static Microsoft.Extensions.Hosting.OperatorPages;

namespace SitMessenger.Scheduler.Apis;

/// <summary>
/// The schedule page (what Celery beat's side of Flower showed): each job's cron, latest and next run, who leads,
/// and where to run one now: the dashboard's command, since the action needs the operator key (see OperatorPages). A
/// pure function of the snapshot, so it is tested without servers. Everything is encoded: a last result carries
/// RabbitMQ's error text.
/// </summary>
internal static class SchedulePage
{
    public const string RunNowHint = "Run a job now with the scheduler's \"Run … now\" commands in the Aspire dashboard.";

    public static string Render(ScheduleSnapshot snapshot, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var html = new StringBuilder();
        html.Append("<h1>Schedule</h1>\n<p class=\"meta\">As of ").Append(Time(now))
            .Append(CultureInfo.InvariantCulture, $"; reloads every {RefreshSeconds} s. Times are UTC; cron has six fields, seconds first.</p>\n");

        html.Append("<p id=\"leader\">Leader: ");
        html.Append(snapshot.Leader is { } leader
            ? $"<strong>{Encode(leader)}</strong>"
            : "<span class=\"unavailable\">none, or Redis cannot say: nothing is being scheduled</span>");
        html.Append(". This page is served by <span id=\"instance\">").Append(Encode(snapshot.Instance)).Append("</span>")
            .Append(snapshot.IsLeader ? ", the leader." : ", a follower.").Append("</p>\n");

        if (snapshot.Jobs.Count == 0)
        {
            html.Append("<p class=\"empty\">No jobs are configured.</p>\n");
            return Document("SIT Messenger: schedule", html.ToString());
        }

        html.Append("<table id=\"schedule\"><thead><tr><th>Job</th><th>Type</th><th>Queue</th><th>Cron</th><th>Last run</th><th>Result</th><th>Last job</th><th>Next run</th></tr></thead><tbody>\n");
        foreach (var status in snapshot.Jobs)
        {
            var job = status.Job;
            var result = status.LastRun.LastResult;
            // "published" or "failed: <why>" (JobHistory); only the former is known good.
            var resultClass = result is null ? null : result == JobHistory.Published ? "Succeeded" : "Failed";
            html.Append("<tr>")
                .Append(Cell(Encode(job.Name)))
                .Append(Cell(Encode(job.Type)))
                .Append(Cell(Encode(job.Queue)))
                .Append(Cell($"<code>{Encode(job.Cron)}</code>"))
                .Append(Cell(Time(status.LastRun.LastRun)))
                .Append(Cell(TextOrNone(result), resultClass is null ? "detail" : $"detail {resultClass}"))
                .Append(Cell(TextOrNone(status.LastRun.LastJobId)))
                .Append(Cell(job.Enabled ? NextRun(status.NextRun, now) : "<span class=\"meta\">disabled</span>"))
                .Append("</tr>\n");
        }

        html.Append("</tbody></table>\n");
        // A disabled job can still be run by hand: that is how an operator runs it at all.
        html.Append("<p class=\"meta\" id=\"run-now\">").Append(Encode(RunNowHint)).Append("</p>\n");
        return Document("SIT Messenger: schedule", html.ToString());
    }

    private static string NextRun(DateTimeOffset? next, DateTimeOffset now)
    {
        if (next is not { } at)
        {
            return "<span class=\"meta\">never again</span>";
        }

        var wait = at - now;
        var inText = wait < TimeSpan.Zero ? "due"
            : wait < TimeSpan.FromMinutes(1) ? string.Create(CultureInfo.InvariantCulture, $"in {Math.Ceiling(wait.TotalSeconds):0} s")
            : wait < TimeSpan.FromHours(1) ? string.Create(CultureInfo.InvariantCulture, $"in {wait.TotalMinutes:0} min")
            : string.Create(CultureInfo.InvariantCulture, $"in {wait.TotalHours:0.#} h");
        return $"{Time(at)} <span class=\"meta\">({inText})</span>";
    }
}
