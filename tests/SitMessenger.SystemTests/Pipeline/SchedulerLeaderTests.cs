using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using SitMessenger.Testing;
using SitMessenger.SystemTests.Infrastructure;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace SitMessenger.SystemTests.Pipeline;

/// <summary>
/// Two Schedulers side by side (the AppHost's and one this test starts): exactly one leads, each occurrence of
/// "sweep-pending" (every 10 s) reaches the Worker once, and when the leader dies the other takes over within the
/// lease (15 s, renewed every 5 s). The test always kills its own Scheduler and starts the AppHost's again.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class SchedulerLeaderTests(SitMessengerAppFixture fixture, ITestOutputHelper output)
{
    private const string LeaderKey = "scheduler:leader";

    private static readonly TimeSpan Window = TimeSpan.FromSeconds(35);

    // Lease 15 s (from the last renewal) + a follower's next round 5 s later, + 1 s for this test's polling.
    private static readonly TimeSpan TakeOverAfterCrash = TimeSpan.FromSeconds(21);

    // A graceful stop releases the lease: the follower's next round (at most 5 s) takes it.
    private static readonly TimeSpan TakeOverAfterStop = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task With_two_schedulers_exactly_one_leads_each_sweep_occurrence_is_queued_once_and_the_other_takes_over_when_the_leader_dies()
    {
        var app = fixture.App;
        using var hosted = new SchedulerClient(app.GetEndpoint("scheduler"), "apphost scheduler");
        await using var extra = await ExtraScheduler.StartAsync(app);
        using var mine = new SchedulerClient(extra.Endpoint, "test's scheduler");
        using var jobs = new WorkerJobs(app);
        using var redis = await ConnectionMultiplexer.ConnectAsync(app.GetConnectionString("cache"));
        var appHostsStopped = false;
        try
        {
            // Exactly one leads, and both name the same leader (which is what Redis holds).
            var both = await Poll.UntilAsync(
                "exactly one of the two schedulers leads and both name it",
                TimeSpan.FromSeconds(30),
                () => BothAsync(hosted, mine),
                s => s.Hosted is { } h && s.Mine is { } m && h.IsLeader != m.IsLeader && h.Leader == m.Leader && h.Leader == (h.IsLeader ? h.Instance : m.Instance),
                s => s.ToString() + extra.Describe());
            Assert.NotEqual(both.Hosted!.Instance, both.Mine!.Instance);
            Assert.Equal(both.Hosted.Leader, (string?)await redis.GetDatabase().StringGetAsync(LeaderKey));
            output.WriteLine($"leader: {(both.Hosted.IsLeader ? "the AppHost's" : "the test's")} scheduler ({both.Hosted.Leader})");

            // Over 35 s: never two leaders, and each 10 s occurrence of sweep-pending reaches the Worker once.
            var windowStart = DateTimeOffset.UtcNow;
            var samples = new List<Both>();
            while (DateTimeOffset.UtcNow - windowStart < Window)
            {
                samples.Add(await BothAsync(hosted, mine));
                await Task.Delay(TimeSpan.FromSeconds(1));
            }

            var windowEnd = DateTimeOffset.UtcNow;
            var twoLeaders = samples.Where(s => s.Hosted?.IsLeader == true && s.Mine?.IsLeader == true).ToList();
            Assert.True(twoLeaders.Count == 0, $"both schedulers said they lead: {string.Join("; ", twoLeaders)}");

            // Give the last occurrence's job a moment to be received.
            await Task.Delay(TimeSpan.FromSeconds(1));
            var sweeps = (await jobs.EventsAsync(2000))
                .Where(e => e.Type == "sweep-pending" && e.State == "Received" && e.Time >= windowStart && e.Time < windowEnd)
                .GroupBy(e => e.JobId)
                .Select(g => (JobId: g.Key, Received: g.Min(e => e.Time)))
                .OrderBy(s => s.Received)
                .ToList();
            var list = string.Join(Environment.NewLine, sweeps.Select(s => $"    {s.Received:HH:mm:ss.fff} {s.JobId}"));
            output.WriteLine($"sweep-pending jobs received in the {Window.TotalSeconds:0} s window:{Environment.NewLine}{list}");
            var perOccurrence = sweeps.GroupBy(s => s.Received.ToUnixTimeSeconds() / 10).Where(g => g.Count() > 1).ToList();
            Assert.True(perOccurrence.Count == 0, $"an occurrence of sweep-pending was queued more than once:{Environment.NewLine}{list}");
            Assert.True(sweeps.Count is >= 3 and <= 4, $"expected 3 or 4 sweep-pending jobs in {Window.TotalSeconds:0} s (one per 10 s), got {sweeps.Count}:{Environment.NewLine}{list}");

            // The leader dies; the other takes over.
            var firstLeaderIsMine = both.Mine.IsLeader;
            if (firstLeaderIsMine)
            {
                await TakeOverAfterKillAsync(extra, hosted, redis, "the test's scheduler (kill -9)");
                Assert.True(extra.HasExited, "the test's scheduler is still running after kill -9");
                return;
            }

            var stopped = Stopwatch.StartNew();
            appHostsStopped = true;
            // Watched while the stop runs: the hand-over is timed from the stop command, however soon DCP reports the exit.
            var stopping = app.StopResourceAsync("scheduler");
            var taken = await UntilLeaderAsync(mine, TakeOverAfterStop, stopped, extra);
            await stopping;
            Assert.Equal(taken.Instance, (string?)await redis.GetDatabase().StringGetAsync(LeaderKey));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"the AppHost's scheduler stopped; the test's took over after {stopped.Elapsed.TotalSeconds:0.0} s"));

            // And the other way round, by lease expiry: the AppHost's comes back as follower, then ours is killed.
            using (var starting = new CancellationTokenSource(TimeSpan.FromMinutes(1)))
            {
                await app.StartResourceAsync("scheduler", starting.Token);
            }

            appHostsStopped = false;
            await Poll.UntilAsync(
                "the restarted AppHost scheduler follows the test's",
                TimeSpan.FromSeconds(30),
                () => BothAsync(hosted, mine),
                s => s.Hosted is { IsLeader: false } h && s.Mine is { IsLeader: true } m && h.Leader == m.Instance,
                s => s.ToString());
            await TakeOverAfterKillAsync(extra, hosted, redis, "the test's scheduler (kill -9), after the AppHost's came back");
            Assert.True(extra.HasExited, "the test's scheduler is still running after kill -9");
        }
        finally
        {
            extra.Kill();
            if (appHostsStopped)
            {
                using var starting = new CancellationTokenSource(TimeSpan.FromMinutes(1));
                await app.StartResourceAsync("scheduler", starting.Token);
            }
        }
    }

    private async Task TakeOverAfterKillAsync(ExtraScheduler extra, SchedulerClient survivor, ConnectionMultiplexer redis, string what)
    {
        var killed = Stopwatch.StartNew();
        extra.Kill();
        var taken = await UntilLeaderAsync(survivor, TakeOverAfterCrash, killed, extra);
        Assert.Equal(taken.Instance, (string?)await redis.GetDatabase().StringGetAsync(LeaderKey));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what} died; the AppHost's took over after {killed.Elapsed.TotalSeconds:0.0} s"));
    }

    private static async Task<ScheduleView> UntilLeaderAsync(SchedulerClient survivor, TimeSpan budget, Stopwatch since, ExtraScheduler extra)
    {
        var view = await Poll.UntilAsync(
            $"{survivor.Name} leads",
            budget,
            () => survivor.TryGetAsync(),
            v => v is { IsLeader: true },
            v => (v?.ToString() ?? "(no answer)") + extra.Describe());
        Assert.True(since.Elapsed <= budget, $"{survivor.Name} took {since.Elapsed.TotalSeconds:0.0} s to lead");
        return view!;
    }

    private static async Task<Both> BothAsync(SchedulerClient hosted, SchedulerClient mine) =>
        new(await hosted.TryGetAsync(), await mine.TryGetAsync());

    private sealed record Both(ScheduleView? Hosted, ScheduleView? Mine)
    {
        public override string ToString() =>
            $"AppHost's: {Hosted?.ToString() ?? "(no answer)"}; test's: {Mine?.ToString() ?? "(no answer)"}";
    }
}

internal sealed record ScheduleView(string? Leader, bool IsLeader, string Instance, IReadOnlyList<ScheduleJobView> Jobs)
{
    public override string ToString() => $"instance {Instance}, is_leader {IsLeader}, leader {Leader ?? "(none)"}";
}

internal sealed record ScheduleJobView(string Name, string Type, string Cron, bool Enabled, DateTimeOffset? LastRun, string? LastResult, string? LastJobId, DateTimeOffset? NextRun);

/// <summary>GET /schedule of one Scheduler.</summary>
internal sealed class SchedulerClient(Uri endpoint, string name) : IDisposable
{
    private readonly HttpClient _client = new() { BaseAddress = endpoint, Timeout = TimeSpan.FromSeconds(5) };

    public string Name { get; } = name;

    public async Task<ScheduleView?> TryGetAsync()
    {
        try
        {
            return await _client.GetFromJsonAsync<ScheduleView>(new Uri("/schedule", UriKind.Relative), WorkerJobs.Json);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return null;
        }
    }

    public void Dispose() => _client.Dispose();
}

/// <summary>A second Scheduler process, started from the same build output as the AppHost's, on a free port.</summary>
internal sealed class ExtraScheduler : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output;

    private ExtraScheduler(Process process, ConcurrentQueue<string> output, Uri endpoint)
    {
        _process = process;
        _output = output;
        Endpoint = endpoint;
    }

    public Uri Endpoint { get; }

    public bool HasExited => _process.HasExited;

    public static async Task<ExtraScheduler> StartAsync(SitMessengerSystem app)
    {
        var root = RepositoryRoot();
        var projectDirectory = Path.Combine(root, "SitMessenger.Scheduler");
        var assembly = Path.Combine(projectDirectory, "bin", "Debug", "net10.0", "SitMessenger.Scheduler.dll");
        Assert.True(File.Exists(assembly), $"{assembly} does not exist: build the solution first");
        var port = FreePort();
        var endpoint = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"));
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath ? hostPath : "dotnet";

        var startInfo = new ProcessStartInfo(host)
        {
            WorkingDirectory = projectDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        startInfo.ArgumentList.Add(assembly);
        startInfo.Environment["ASPNETCORE_URLS"] = endpoint.ToString().TrimEnd('/');
        startInfo.Environment["ConnectionStrings__cache"] = app.GetConnectionString("cache");
        startInfo.Environment["ConnectionStrings__messaging"] = app.GetConnectionString("messaging");
        startInfo.Environment["DOTNET_ENVIRONMENT"] = "Development";
        startInfo.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        startInfo.Environment["OTEL_SERVICE_NAME"] = "scheduler-test";
        startInfo.Environment["Logging__Console__FormatterName"] = "simple";
        startInfo.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        startInfo.Environment["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ";

        var output = new ConcurrentQueue<string>();
        var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => Keep(output, e.Data);
        process.ErrorDataReceived += (_, e) => Keep(output, e.Data);
        Assert.True(process.Start(), $"could not start {host} {assembly}");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        var scheduler = new ExtraScheduler(process, output, endpoint);

        try
        {
            using var client = new HttpClient { BaseAddress = endpoint, Timeout = TimeSpan.FromSeconds(5) };
            await Poll.UntilAsync(
                $"the test's scheduler (pid {process.Id}) answers /health with 200",
                TimeSpan.FromSeconds(60),
                async () =>
                {
                    if (process.HasExited)
                    {
                        return $"exited with code {process.ExitCode}";
                    }

                    try
                    {
                        using var response = await client.GetAsync(new Uri("/health", UriKind.Relative));
                        return response.StatusCode == HttpStatusCode.OK ? "healthy" : $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                    {
                        return ex.Message;
                    }
                },
                state => state == "healthy" || state.StartsWith("exited", StringComparison.Ordinal),
                state => state + scheduler.Describe());
            if (process.HasExited)
            {
                Assert.Fail($"the test's scheduler exited with code {process.ExitCode}:{scheduler.Describe()}");
            }
        }
        catch
        {
            await scheduler.DisposeAsync();
            throw;
        }

        return scheduler;
    }

    /// <summary>kill -9: no graceful stop, so the lease is not released.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public string Describe() =>
        $"{Environment.NewLine}test's scheduler output (last lines):{Environment.NewLine}    {string.Join(Environment.NewLine + "    ", _output.TakeLast(25))}";

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private static void Keep(ConcurrentQueue<string> output, string? line)
    {
        if (line is null)
        {
            return;
        }

        output.Enqueue(line);
        while (output.Count > 500 && output.TryDequeue(out _))
        {
        }
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "SitMessenger.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"no folder above {AppContext.BaseDirectory} holds SitMessenger.sln");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
