using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests.Gateway;

/// <summary>
/// An Api replica that stops answering without exiting (SIGSTOP: a long GC pause, a host stall, a debugger): the
/// Gateway answers what it had sent there with 504 and sends everything new to the other replica.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class FrozenReplicaTests(SitMessengerAppFixture fixture)
{
    // The Gateway's default Gateway:Proxy:ActivityTimeout (ProxyOptions), which the fixture keeps.
    private static readonly TimeSpan ActivityTimeout = TimeSpan.FromSeconds(10);
    // Two missed probes (1 s apart, 1 s each) and a little scheduling slack.
    private static readonly TimeSpan SwitchBudget = TimeSpan.FromSeconds(4);
    // Past the first requests' 504s, when the frozen replica has nothing in flight and the balancer would try it again.
    private static readonly TimeSpan Watch = ActivityTimeout + TimeSpan.FromSeconds(4);

    [Fact]
    public async Task A_frozen_api_replica_stops_getting_traffic_within_seconds_and_what_it_held_answers_504()
    {
        var pid = fixture.App.ServiceProcessId("api-1") ?? throw new InvalidOperationException("api-1 has no process.");
        var frozen = $"{Environment.MachineName}:{pid.ToString(CultureInfo.InvariantCulture)}";
        using var client = new HttpClient { BaseAddress = fixture.App.GetEndpoint("gateway"), Timeout = ActivityTimeout * 2 };

        Signal("STOP", pid);
        try
        {
            var clock = Stopwatch.StartNew();
            // Sent together, before any probe has missed: the balancer gives each replica some of them.
            var burst = Enumerable.Range(0, 4).Select(_ => PingAsync(client, clock)).ToList();
            var sequence = new List<Ping>();
            while (clock.Elapsed < Watch)
            {
                sequence.Add(await PingAsync(client, clock));
                await Task.Delay(200);
            }

            var held = (await Task.WhenAll(burst)).Where(p => p.Status == HttpStatusCode.GatewayTimeout).ToList();
            Assert.NotEmpty(held);
            foreach (var ping in held)
            {
                Assert.Equal("The server did not answer in time.", ping.Detail);
                Assert.InRange(ping.Took, ActivityTimeout - TimeSpan.FromSeconds(1), ActivityTimeout + TimeSpan.FromSeconds(3));
            }

            var afterSwitch = sequence.Where(p => p.Started >= SwitchBudget).ToList();
            Assert.NotEmpty(afterSwitch);
            Assert.All(afterSwitch, ping =>
            {
                Assert.True(ping.Status == HttpStatusCode.OK, $"a ping {ping.Started.TotalSeconds:0.0} s after the freeze answered {(int)ping.Status} in {ping.Took.TotalSeconds:0.0} s");
                Assert.NotEqual(frozen, ping.Instance);
                Assert.True(ping.Took < TimeSpan.FromSeconds(2), $"a ping {ping.Started.TotalSeconds:0.0} s after the freeze took {ping.Took.TotalSeconds:0.0} s");
            });
        }
        finally
        {
            Signal("CONT", pid);
        }

        // Thawed, it is probed healthy again and takes its share.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        using var again = new HttpClient { BaseAddress = fixture.App.GetEndpoint("gateway"), Timeout = TimeSpan.FromSeconds(30) };
        while (true)
        {
            var seen = await again.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/ping/request/", UriKind.Relative));
            if (seen.GetProperty("instance").GetString() == frozen)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "the thawed replica got no request within 30 s");
            await Task.Delay(100);
        }
    }

    private static async Task<Ping> PingAsync(HttpClient client, Stopwatch clock)
    {
        var started = clock.Elapsed;
        using var response = await client.GetAsync(new Uri("/api/v1/ping/request/", UriKind.Relative));
        var took = clock.Elapsed - started;
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return new Ping(started, took, response.StatusCode,
            body.TryGetProperty("instance", out var instance) ? instance.GetString() : null,
            body.TryGetProperty("detail", out var detail) ? detail.GetString() : null);
    }

    private static void Signal(string signal, int pid)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    private sealed record Ping(TimeSpan Started, TimeSpan Took, HttpStatusCode Status, string? Instance, string? Detail);
}
