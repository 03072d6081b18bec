using System.Diagnostics;
using System.Globalization;
using System.Net;
using SitMessenger.SystemTests.Api;
using SitMessenger.SystemTests.Pipeline;
using SitMessenger.Testing;
using Xunit.Abstractions;

namespace SitMessenger.SystemTests.Faults;

/// <summary>
/// The state folder's disk fills up (PostgreSQL's data, RabbitMQ's and Redis's files, the segments all live there):
/// sends answer 2xx or 503, never anything else and never a 2xx for a message that is not kept; the AppHost stays up and
/// supervising; once space returns the system recovers by itself, and every acknowledged message is there once and is
/// flushed into segments, with no restart by hand.
/// </summary>
public sealed class DiskFullTests(ITestOutputHelper output)
{
    private const int DiskMegabytes = 768;
    private static readonly TimeSpan FullFor = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan RecoveryBudget = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(50);

    [Fact]
    public async Task With_the_disk_full_nothing_acknowledged_is_lost_and_the_system_recovers_by_itself_when_space_returns()
    {
        using var disk = SmallDisk.Mount(DiskMegabytes);
        await using var app = await SitMessengerSystem.StartAsync(
            new Dictionary<string, string?>
            {
                ["SitMessenger:FlushDelay"] = "00:00:03",
                // Refusals answer at once, so the senders run faster than a user would: the Gateway's limits would answer 429.
                ["Services:gateway:RateLimits:PerAddress:PermitLimit"] = "1000000",
                ["Services:gateway:RateLimits:PerUser:PermitLimit"] = "1000000",
                ["Services:gateway:RateLimits:Sends:PermitLimit"] = "1000000",
            },
            stateDirectory: Path.Combine(disk.Path, "state"),
            progress: output.WriteLine);
        using var http = new HttpClient { BaseAddress = app.GetEndpoint("gateway"), Timeout = TimeSpan.FromSeconds(30) };
        var api = new SitApiClient(http);
        var alice = await api.CreateUserAsync("disk_alice");
        var bob = await api.CreateUserAsync("disk_bob");
        var chatId = await api.CreateChatAsync(alice, bob);
        var tag = $"disk-{Guid.NewGuid():N}";
        var acknowledged = new Dictionary<string, string>(StringComparer.Ordinal);
        var refused = 0;
        var unexpected = new List<string>();
        var index = 0;

        async Task SendAsync()
        {
            var text = ChatTraffic.Text(tag, ++index);
            // The web client's send: PATCH, answering the chat.
            var answer = await api.PatchMessageAsync(alice, chatId, text);
            switch (answer.Status)
            {
                case HttpStatusCode.OK:
                    acknowledged[text] = text;
                    break;
                case HttpStatusCode.ServiceUnavailable when answer.Body.ValueKind == System.Text.Json.JsonValueKind.Object && answer.Body.TryGetProperty("detail", out _):
                    refused++;
                    break;
                default:
                    unexpected.Add($"message {index}: {answer}");
                    break;
            }
        }

        for (var i = 0; i < 20; i++)
        {
            await SendAsync();
        }

        Assert.Equal(20, acknowledged.Count);
        var clock = Stopwatch.StartNew();
        disk.Fill();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"disk full ({disk.FreeBytes} bytes free) after {clock.Elapsed.TotalSeconds:0.0} s"));
        while (clock.Elapsed < FullFor)
        {
            await SendAsync();
            await Task.Delay(Pace);
        }

        output.WriteLine($"while full: {acknowledged.Count - 20} acknowledged, {refused} refused with 503, {unexpected.Count} other answers");
        disk.Free();
        var freedAt = clock.Elapsed;
        Assert.True(app.Statuses().Count > 0, "the AppHost still reports its resources");

        // Recovery by itself: sends succeed again, with no restart by hand.
        await Poll.UntilAsync(
            "a send succeeds again after space returned",
            RecoveryBudget,
            async () =>
            {
                var before = acknowledged.Count;
                await SendAsync();
                return acknowledged.Count > before;
            },
            ok => ok,
            _ => string.Join(", ", app.Statuses().Select(s => $"{s.ResourceId} {s.State}/{s.Health}")),
            interval: TimeSpan.FromSeconds(1));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sends succeed again {(clock.Elapsed - freedAt).TotalSeconds:0.0} s after space returned"));
        for (var i = 0; i < 10; i++)
        {
            await SendAsync();
        }

        Assert.True(unexpected.Count == 0, "every send answered 200 or 503 with a detail:\n" + string.Join('\n', unexpected.Take(20)));

        // Every acknowledged message is there once, and all of it is flushed into segments.
        var history = await ChatTraffic.WholeHistoryAsync(api, bob, chatId);
        var mine = history.Where(m => m.Message.StartsWith(tag, StringComparison.Ordinal)).ToList();
        var missing = acknowledged.Keys.Except(mine.Select(m => m.Message), StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} acknowledged messages are missing, e.g. {missing.FirstOrDefault()}");
        var doubled = mine.GroupBy(m => m.Message, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(doubled.Count == 0, $"{doubled.Count} messages are stored twice, e.g. {doubled.FirstOrDefault()}");
        var database = new PipelineDatabase(app);
        await database.UntilFlushedAsync(chatId, history.Max(m => m.Seq), RecoveryBudget);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"all {acknowledged.Count} acknowledged messages flushed {(clock.Elapsed - freedAt).TotalSeconds:0.0} s after space returned"));
    }
}
