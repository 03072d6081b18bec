using System.Net;

namespace SitMessenger.AppHost.Hosting.Dashboard;

/// <summary>The dashboard's pages: static HTML that polls the JSON endpoints; text goes in with textContent, never as HTML.</summary>
internal static class DashboardPages
{
    private const string Style = """
        <style>
          body { font-family: system-ui, sans-serif; margin: 2rem; color: #1b1b1b; }
          table { border-collapse: collapse; width: 100%; }
          th, td { text-align: left; padding: .4rem .8rem; border-bottom: 1px solid #ddd; }
          th { background: #f3f3f3; }
          .Healthy, .Finished { color: #107c10; } .Exited, .FailedToStart, .Unhealthy { color: #c50f1f; }
          .Restarting, .Starting, .Waiting, .Running { color: #bc4b09; }
          pre { background: #111; color: #eee; padding: 1rem; overflow: auto; height: 75vh; font-size: 12px; }
          .err { color: #ff8080; }
        </style>
        """;

    public const string Resources = $$"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>SIT Messenger dashboard</title>{{Style}}</head>
        <body>
        <h1>SIT Messenger: resources</h1>
        <p><a href="/jobs">Jobs</a> (schedule, dead letters, recent job events)</p>
        <table><thead><tr><th>Resource</th><th>Type</th><th>State</th><th>PID</th><th>Restarts</th><th>Endpoints</th><th>Detail</th><th>Logs</th></tr></thead>
        <tbody id="resources"></tbody></table>
        <script>
        async function refresh() {
          const response = await fetch('/api/resources');
          const resources = await response.json();
          const body = document.getElementById('resources');
          body.replaceChildren(...resources.map(r => {
            const row = document.createElement('tr');
            const cell = (text, cls) => { const td = document.createElement('td'); td.textContent = text ?? ''; if (cls) td.className = cls; row.appendChild(td); return td; };
            cell(r.name); cell(r.kind); cell(r.state, r.state); cell(r.processId); cell(r.restarts);
            const endpoints = cell('');
            for (const url of r.endpoints) { const a = document.createElement('a'); a.href = url; a.textContent = url; endpoints.appendChild(a); endpoints.append(' '); }
            cell(r.detail);
            const logs = cell(''); const a = document.createElement('a'); a.href = '/resources/' + encodeURIComponent(r.name); a.textContent = 'console'; logs.appendChild(a);
            return row;
          }));
        }
        refresh(); setInterval(refresh, 2000);
        </script>
        </body></html>
        """;

    public static string Logs(string resourceName)
    {
        var name = WebUtility.HtmlEncode(resourceName);
        return $$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>{{name}}: console</title>{{Style}}</head>
            <body>
            <p><a href="/">&larr; resources</a></p>
            <h1>{{name}}: console output</h1>
            <pre id="log"></pre>
            <script>
            let after = null;
            const log = document.getElementById('log');
            async function refresh() {
              const url = '/api/resources/' + encodeURIComponent({{System.Text.Json.JsonSerializer.Serialize(resourceName)}}) + '/logs' + (after === null ? '' : '?after=' + after);
              const lines = await (await fetch(url)).json();
              for (const line of lines) {
                const span = document.createElement('span');
                span.textContent = line.text + '\n';
                if (line.isError) span.className = 'err';
                log.appendChild(span);
                after = line.sequence;
              }
              if (lines.length) log.scrollTop = log.scrollHeight;
            }
            refresh(); setInterval(refresh, 1000);
            </script>
            </body></html>
            """;
    }
}
