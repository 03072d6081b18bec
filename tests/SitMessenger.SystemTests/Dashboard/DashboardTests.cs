using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using SitMessenger.SystemTests.Api;
using SitMessenger.SystemTests.Pipeline;
using Xunit.Abstractions;

namespace SitMessenger.SystemTests.Dashboard;

/// <summary>
/// A system of its own with the real Aspire dashboard, its services exporting OpenTelemetry to it, and the Gateway's
/// rate limits lifted (the test registers users and sends from 127.0.0.1 like every other test).
/// </summary>
public sealed class DashboardSystemFixture : IAsyncLifetime
{
    /// <summary>Short, so the Worker's flush of a send is in the dashboard within seconds.</summary>
    public const string FlushDelay = "00:00:02";

    public SitMessengerSystem App { get; private set; } = null!;

    public HttpClient Gateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        App = await SitMessengerSystem.StartAsync(
            new Dictionary<string, string?>
            {
                ["SitMessenger:FlushDelay"] = FlushDelay,
                ["Services:gateway:RateLimits:PerAddress:PermitLimit"] = "1000000",
                ["Services:gateway:RateLimits:PerUser:PermitLimit"] = "1000000",
                ["Services:gateway:RateLimits:Sends:PermitLimit"] = "1000000",
                ["Services:gateway:RateLimits:Auth:PermitLimit"] = "60",
                ["Services:gateway:RateLimits:Auth:Window"] = "00:00:10",
            },
            dashboard: true);
        Gateway = new HttpClient { BaseAddress = App.GetEndpoint("gateway"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        Gateway?.Dispose();
        if (App is not null)
        {
            await App.DisposeAsync();
        }
    }
}

/// <summary>The Aspire dashboard as an operator uses it, in headless Chromium: log in, watch, run commands, read traces.</summary>
public sealed partial class DashboardTests(DashboardSystemFixture fixture, ITestOutputHelper output) : IClassFixture<DashboardSystemFixture>
{
    private static readonly string[] Servers = ["postgres", "cache", "messaging"];
    private static readonly string[] Services = ["api", "worker", "scheduler", "gateway"];
    private static readonly string[] TracedServices = ["gateway", "api", "worker"];
    private const string Migrations = "migrations";
    private const string SweepCommand = "Run sweep-pending now";
    private const string SweepJob = "sweep-pending";
    private const string LoginPlaceholder = "Enter token to log in";

    // The system is healthy when the fixture is ready; the page may still be catching up with the resource service.
    private static readonly TimeSpan DashboardCatchUpBudget = TimeSpan.FromMinutes(1);
    // Flush delay (2 s) plus the Worker's pickup; then the exporters' batch interval before the dashboard has the spans.
    private static readonly TimeSpan FlushBudget = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan TraceBudget = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan SweepRunBudget = TimeSpan.FromSeconds(30);
    // DCP starts the service's built assembly again, then its health checks pass; generous for a loaded CI machine.
    private static readonly TimeSpan RestartBudget = TimeSpan.FromMinutes(3);
    // A wrong token never redirects; this is how long the page gets to (wrongly) do so.
    private static readonly TimeSpan WrongTokenWait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task The_dashboard_shows_every_resource_healthy_runs_a_scheduler_command_restarts_the_worker_and_holds_the_send_and_flush_trace()
    {
        var app = fixture.App;
        await using var browser = await DashboardBrowser.LaunchAsync(ScreenshotFolder("journey"));

        // 1. The URL the AppHost prints, with its token, opens the Resources page.
        await browser.LoginAsync(app.DashboardLoginUrl);
        Assert.Equal("/", new Uri(browser.Page.Url).AbsolutePath);
        await ShotAsync(browser, "logged-in");

        // 2. Every server and service Running and healthy; the migrations job has run to completion.
        var rows = await browser.WaitForRunningAndHealthyAsync(DashboardCatchUpBudget, [.. Servers, .. Services]);
        foreach (var row in rows)
        {
            output.WriteLine($"  {row.Name} [{row.Type}] '{row.StateText}' ({row.StateTooltip}) started {row.StartTime}");
        }

        Assert.All(Services, s => Assert.Equal("Project", Row(rows, s).Type));
        Assert.All([.. Servers, .. Services], s => Assert.True(Row(rows, s).IsRunningAndHealthy, $"{s}: {Row(rows, s)}"));
        var migrations = Row(rows, Migrations);
        Assert.True(migrations.State == "Finished", $"migrations should have finished: {migrations}");
        await ShotAsync(browser, "resources-healthy");

        // 3. A send through the Gateway, flushed by the Worker: one trace with spans from gateway, api and worker.
        var api = new SitApiClient(fixture.Gateway);
        var alice = await api.CreateUserAsync("dash_alice");
        var bob = await api.CreateUserAsync("dash_bob");
        var chatId = await api.CreateChatAsync(alice, bob);
        // A new chat's first line is flushed by a job of its own; a send within the flush delay would ride that job
        // (one flush per chat is scheduled at a time), so the send waits until it is done.
        var database = new PipelineDatabase(app);
        var created = await database.UntilFlushedAsync(chatId, (await database.StorageAsync(chatId)).LastSeq, FlushBudget);
        var text = $"traced through the dashboard {Guid.NewGuid():N}";
        ApiAssert.Status(HttpStatusCode.OK, await api.PatchMessageAsync(alice, chatId, text));
        var sent = await database.StorageAsync(chatId);
        Assert.True(sent.LastSeq == created.LastSeq + 1, $"the send is not the chat's next message: {created} then {sent}");
        var flushed = await database.UntilFlushedAsync(chatId, sent.LastSeq, FlushBudget);
        output.WriteLine($"chat {chatId} flushed: {flushed}");

        // The chat's creation also makes a gateway-api-worker trace (its first line is flushed): look for the send's.
        var trace = await browser.FindTraceWithServicesAsync(TraceBudget, "PATCH", TracedServices);
        output.WriteLine($"trace {trace.TraceId} '{trace.Name}' at {trace.Timestamp}: " +
            string.Join(", ", trace.SpansByService.Select(kv => $"{kv.Key}={kv.Value}")));
        await ShotAsync(browser, "traces");
        Assert.Matches("^[0-9a-f]{32}$", trace.TraceId);
        var spans = await browser.OpenTraceAsync(trace.TraceId);
        foreach (var span in spans)
        {
            output.WriteLine($"  span {span.Resource}: {span.Name}");
        }

        Assert.All(TracedServices, s => Assert.Contains(spans, span => DashboardBrowser.IsInstanceOf(span.Resource, s)));
        Assert.True(spans.Any(s => DashboardBrowser.IsInstanceOf(s.Resource, "gateway") && s.Name.Contains("PATCH", StringComparison.Ordinal)),
            $"the trace is not the send (no PATCH span from the gateway): {string.Join("; ", spans.Select(s => $"{s.Resource}: {s.Name}"))}");
        await ShotAsync(browser, "trace-detail");

        // 4. "Run sweep-pending now" from the scheduler's menu: the toast says it succeeded, and the Worker runs that job.
        var schedulerLogStart = StateFiles.LogLength(app, "scheduler");
        var sweep = await browser.ExecuteResourceCommandAsync("scheduler", SweepCommand);
        output.WriteLine($"command: {sweep}");
        await ShotAsync(browser, "sweep-succeeded");
        Assert.True(sweep.Succeeded, $"{sweep.Title}: {sweep.Details}");
        Assert.Contains($"\"{SweepCommand}\"", sweep.Title, StringComparison.Ordinal);
        var jobId = await Poll.UntilAsync(
            "the scheduler logs the hand-started sweep",
            SweepRunBudget,
            () => Task.FromResult(PublishedByHand().Match(StateFiles.LogSince(app, "scheduler", schedulerLogStart))),
            m => m.Success,
            _ => StateFiles.Tail(StateFiles.LogSince(app, "scheduler", schedulerLogStart), 10));
        using (var jobs = new WorkerJobs(app))
        {
            var id = jobId.Groups["id"].Value;
            var done = await Poll.UntilAsync(
                $"the Worker ran job {id}",
                SweepRunBudget,
                () => jobs.EventsOrNoneAsync(),
                events => events.Any(e => e.JobId == id && e.State == "Succeeded"),
                events => WorkerJobs.Describe(events.Where(e => e.Type == SweepJob), 10));
            output.WriteLine($"worker: {done.First(e => e.JobId == id && e.State == "Succeeded")}");
        }

        // 5. Restart of the worker from its menu: it goes down, comes back Running and healthy, in a new process.
        var before = app.Status("worker");
        Assert.True(before.ProcessId is not null, $"worker has no process: {before}");
        var restart = await browser.RestartResourceAsync("worker");
        output.WriteLine($"restart: {string.Join(" -> ", restart.ObservedStates)}; started {restart.StartTimeBefore} -> {restart.StartTimeAfter}; {restart.Command.Title}");
        Assert.True(restart.Command.Succeeded, $"{restart.Command.Title}: {restart.Command.Details}");
        Assert.Contains(restart.ObservedStates, s => s != "Running");
        Assert.Equal("Running", restart.ObservedStates[^1]);
        Assert.NotEqual(restart.StartTimeBefore, restart.StartTimeAfter);
        var after = await Poll.UntilRestartedAsync(app, "worker", before.ProcessId, RestartBudget);
        output.WriteLine($"worker process {before.ProcessId} -> {after.ProcessId}");
        var afterRows = await browser.WaitForRunningAndHealthyAsync(RestartBudget, [.. Servers, .. Services]);
        Assert.True(Row(afterRows, "worker").IsRunningAndHealthy, Row(afterRows, "worker").ToString());
        await ShotAsync(browser, "worker-restarted");
    }

    [Fact]
    public async Task The_dashboard_answers_400_to_a_host_name_it_is_not_served_under_as_dns_rebinding_would_send()
    {
        var login = new Uri(fixture.App.GetEndpoint("aspire-dashboard", "http"), "/login");
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        using var rebound = new HttpRequestMessage(HttpMethod.Get, login);
        rebound.Headers.Host = "evil.example";
        using var refused = await client.SendAsync(rebound);
        using var served = await client.GetAsync(login);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    [Fact]
    public async Task A_wrong_token_is_refused_and_the_login_form_stays_while_the_printed_one_logs_in()
    {
        var app = fixture.App;
        var goodUrl = app.DashboardLoginUrl;
        var wrongToken = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        Assert.NotEqual(app.BrowserToken, wrongToken);
        var wrongUrl = new Uri(goodUrl, $"/login?t={wrongToken}");
        await using var browser = await DashboardBrowser.LaunchAsync(ScreenshotFolder("wrong-token"));
        browser.Timeout = WrongTokenWait;

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => browser.LoginAsync(wrongUrl));
        output.WriteLine(refused.Message);
        Assert.Contains("refused the browser token", refused.Message, StringComparison.Ordinal);
        Assert.StartsWith("/login", new Uri(browser.Page.Url).AbsolutePath, StringComparison.Ordinal);
        await Assertions.Expect(browser.Page.GetByPlaceholder(LoginPlaceholder).First).ToBeVisibleAsync();

        // No session came of it: the Resources page sends the browser back to the login form.
        await browser.Page.GotoAsync(new Uri(goodUrl, "/").ToString());
        await browser.Page.WaitForURLAsync(url => new Uri(url).AbsolutePath.StartsWith("/login", StringComparison.OrdinalIgnoreCase));
        await Assertions.Expect(browser.Page.GetByPlaceholder(LoginPlaceholder).First).ToBeVisibleAsync();
        Assert.Equal(0, await browser.Page.Locator("tr.resource-row").CountAsync());
        await ShotAsync(browser, "wrong-token-refused");

        // The same browser with the printed token gets in: the refusal was the token's, not the page's.
        browser.Timeout = DashboardCatchUpBudget;
        await browser.LoginAsync(goodUrl);
        Assert.Contains(await browser.ResourceStatesAsync(), r => r.Name == "gateway");
        await ShotAsync(browser, "printed-token-accepted");
    }

    private static DashboardResource Row(IReadOnlyList<DashboardResource> rows, string name) =>
        rows.SingleOrDefault(r => DashboardBrowser.IsInstanceOf(r.Name, name))
        ?? throw new Xunit.Sdk.XunitException($"'{name}' is not on the Resources page: {string.Join(", ", rows.Select(r => $"{r.Name}={r.StateText}"))}");

    /// <summary>A folder of this test's own under <c>AppContext.BaseDirectory/screenshots</c>, emptied of an earlier run's.</summary>
    private static string ScreenshotFolder(string test)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots", test);
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        return folder;
    }

    private async Task ShotAsync(DashboardBrowser browser, string name)
    {
        var path = await browser.ScreenshotAsync(name);
        output.WriteLine("screenshot: " + path);
    }

    [GeneratedRegex(@"Published sweep-pending, run by hand, as job (?<id>[^\s""]+) to")]
    private static partial Regex PublishedByHand();
}
