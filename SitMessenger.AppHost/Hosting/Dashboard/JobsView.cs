using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace SitMessenger.AppHost.Hosting.Dashboard;

/// <summary>
/// The jobs view (what Flower showed): recent job events from the Worker, the Scheduler's schedule, the dead-letter
/// queue, and the two operator actions, run-now and requeue. The dashboard relays to the services' own endpoints.
/// </summary>
internal static class JobsView
{
    // A custom header makes any cross-site POST need a CORS preflight, which this server never grants.
    private const string ActionHeader = "X-Dashboard-Action";
    private static readonly HttpClient Services = new() { Timeout = TimeSpan.FromSeconds(10) };

    public static void MapJobsView(this IEndpointRouteBuilder app, DistributedApplication application)
    {
        app.MapGet("/jobs", () => Results.Content(Page, "text/html; charset=utf-8"));
        app.MapGet("/api/jobs/events", (CancellationToken ct) => RelayAsync(application, "worker", HttpMethod.Get, "/jobs/events?count=200", ct));
        app.MapGet("/api/jobs/dead-letters", (CancellationToken ct) => RelayAsync(application, "worker", HttpMethod.Get, "/jobs/dead-letters", ct));
        app.MapGet("/api/schedule", (CancellationToken ct) => RelayAsync(application, "scheduler", HttpMethod.Get, "/schedule", ct));
        app.MapPost("/api/jobs/dead-letters/requeue", (HttpContext http, CancellationToken ct) =>
            http.Request.Headers.ContainsKey(ActionHeader)
                ? RelayAsync(application, "worker", HttpMethod.Post, "/jobs/dead-letters/requeue", ct)
                : Task.FromResult(Results.BadRequest()));
        app.MapPost("/api/schedule/{name}/run", (string name, HttpContext http, CancellationToken ct) =>
            http.Request.Headers.ContainsKey(ActionHeader)
                ? RelayAsync(application, "scheduler", HttpMethod.Post, $"/schedule/{Uri.EscapeDataString(name)}/run", ct)
                : Task.FromResult(Results.BadRequest()));
    }

    private static async Task<IResult> RelayAsync(DistributedApplication application, string service, HttpMethod method, string path, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(method, new Uri(application.GetEndpoint(service), path));
            using var response = await Services.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            return Results.Content(body, "application/json", statusCode: (int)response.StatusCode);
        }
        catch (HttpRequestException ex)
        {
            return Results.Json(new { detail = $"{service} does not answer: {ex.Message}" }, statusCode: StatusCodes.Status502BadGateway);
        }
    }

    private const string Page = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>SIT Messenger: jobs</title>
        <style>
          body { font-family: system-ui, sans-serif; margin: 2rem; color: #1b1b1b; }
          table { border-collapse: collapse; width: 100%; margin-bottom: 2rem; }
          th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #ddd; font-size: 14px; }
          th { background: #f3f3f3; }
          .Succeeded { color: #107c10; } .Failed, .DeadLettered { color: #c50f1f; } .Retried { color: #bc4b09; }
          button { font-size: 13px; }
        </style></head>
        <body>
        <p><a href="/">&larr; resources</a></p>
        <h1>Jobs</h1>
        <h2>Schedule <small id="leader"></small></h2>
        <table><thead><tr><th>Job</th><th>Cron</th><th>Last run</th><th>Result</th><th>Next run</th><th></th></tr></thead><tbody id="schedule"></tbody></table>
        <h2>Dead letters <button id="requeue">Requeue all</button></h2>
        <table><thead><tr><th>Job</th><th>Type</th><th>Attempts</th><th>Failed at</th><th>Error</th></tr></thead><tbody id="dead"></tbody></table>
        <h2>Recent events</h2>
        <table><thead><tr><th>At</th><th>Job</th><th>Type</th><th>Attempt</th><th>State</th><th>ms</th><th>Detail</th></tr></thead><tbody id="events"></tbody></table>
        <script>
        const row = (cells, stateIndex) => { const tr = document.createElement('tr'); cells.forEach((c, i) => { const td = document.createElement('td'); if (c instanceof Node) td.appendChild(c); else td.textContent = c ?? ''; if (i === stateIndex) td.className = c; tr.appendChild(td); }); return tr; };
        const post = url => fetch(url, { method: 'POST', headers: { 'X-Dashboard-Action': '1' } }).then(refresh);
        async function load(url) { const r = await fetch(url); return r.ok ? r.json() : null; }
        async function refresh() {
          const schedule = await load('/api/schedule');
          if (schedule) {
            document.getElementById('leader').textContent = schedule.leader ? '(leader: ' + schedule.leader + ')' : '(no leader)';
            document.getElementById('schedule').replaceChildren(...schedule.jobs.map(j => {
              const run = document.createElement('button'); run.textContent = 'Run now'; run.onclick = () => post('/api/schedule/' + encodeURIComponent(j.name) + '/run');
              return row([j.name, j.cron, j.last_run, j.last_result, j.next_run, run]);
            }));
          }
          const dead = await load('/api/jobs/dead-letters');
          if (dead) document.getElementById('dead').replaceChildren(...dead.map(d => row([d.job_id, d.type, d.attempts, d.failed_at, d.error])));
          const events = await load('/api/jobs/events');
          if (events) document.getElementById('events').replaceChildren(...events.map(e => row([e.at, e.job_id, e.type, e.attempt, e.state, e.duration_ms, e.detail], 4)));
        }
        document.getElementById('requeue').onclick = () => post('/api/jobs/dead-letters/requeue');
        refresh(); setInterval(refresh, 3000);
        </script>
        </body></html>
        """;
}
