using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using RabbitMQ.Client;
using SitMessenger.SystemTests.Infrastructure;
using Xunit.Abstractions;

namespace SitMessenger.SystemTests.Pipeline;

/// <summary>
/// A job that fails every attempt is retried with backoff (1, 2, 4, 8 s), then parked in sit.dead-letters with the
/// reason, where the Worker's jobs API shows it and can requeue it. A message that is not a job at all goes there
/// at once. Jobs are published the way any producer would: RabbitMQ.Client on the default exchange.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class DeadLetterTests(SitMessengerAppFixture fixture, ITestOutputHelper output)
{
    private const string JobsQueue = "sit.jobs";
    private const int MaxAttempts = 5;

    // 1 + 2 + 4 + 8 s of backoff plus five attempts and the delay queues' own latency.
    private static readonly TimeSpan DeadLetterBudget = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_job_that_always_fails_goes_to_the_dead_letter_queue_after_its_retries_and_runs_again_when_requeued()
    {
        using var jobs = new WorkerJobs(fixture.App);
        var jobId = Guid.NewGuid().ToString("N");
        var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
        {
            ["id"] = jobId,
            ["type"] = "no-such-job",
            ["chat_id"] = null,
            ["attempt"] = 1,
            ["created"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        });
        await PublishAsync(body, messageId: null);

        var dead = await Poll.UntilAsync(
            $"job {jobId} listed in GET /jobs/dead-letters",
            DeadLetterBudget,
            async () => (Letters: await jobs.DeadLettersAsync(), Events: await jobs.EventsOrNoneAsync(200)),
            s => s.Letters.Any(l => l.JobId == jobId),
            s => $"{s.Letters.Count} dead letters; events of the job:{Environment.NewLine}{WorkerJobs.Describe(s.Events.Where(e => e.JobId == jobId))}",
            TimeSpan.FromMilliseconds(500));
        var letter = dead.Letters.Single(l => l.JobId == jobId);
        output.WriteLine($"dead letter: {letter}");
        Assert.Equal("no-such-job", letter.Type);
        Assert.Equal(MaxAttempts, letter.Attempts);
        Assert.Contains("unknown job type", letter.Error ?? "", StringComparison.OrdinalIgnoreCase);
        Assert.Equal(JobsQueue, letter.Queue);
        Assert.False(string.IsNullOrEmpty(letter.FailedAt), $"no failed_at: {letter}");

        // The events tell the story: every attempt failed, the first four were retried, the fifth dead-lettered.
        var events = (await jobs.EventsAsync(2000)).Where(e => e.JobId == jobId).Reverse().ToList();
        output.WriteLine("events of the job:" + Environment.NewLine + WorkerJobs.Describe(events, 100));
        var story = $"events of job {jobId}:{Environment.NewLine}{WorkerJobs.Describe(events, 100)}";
        Assert.True(Enumerable.Range(1, MaxAttempts).All(a => events.Any(e => e.Attempt == a && e.State == "Failed")), $"not every attempt failed. {story}");
        Assert.True(Enumerable.Range(1, MaxAttempts - 1).All(a => events.Any(e => e.Attempt == a && e.State == "Retried")), $"attempts 1-4 were not all retried. {story}");
        Assert.True(events.Count(e => e.State == "DeadLettered") == 1 && events.Single(e => e.State == "DeadLettered").Attempt == MaxAttempts,
            $"expected exactly one DeadLettered event, on attempt {MaxAttempts}. {story}");
        Assert.DoesNotContain(events, e => e.State == "Retried" && e.Attempt == MaxAttempts);
        Assert.All(events.Where(e => e.State == "Failed"), e => Assert.Contains("unknown job type", e.Detail, StringComparison.OrdinalIgnoreCase));

        // Backoff: each retry's attempt arrived no sooner than its delay (1, 2, 4, 8 s) after the failure before it.
        for (var attempt = 2; attempt <= MaxAttempts; attempt++)
        {
            var failed = events.First(e => e.Attempt == attempt - 1 && e.State == "Failed").Time;
            var received = events.First(e => e.Attempt == attempt && e.State == "Received").Time;
            var expected = TimeSpan.FromSeconds(1 << (attempt - 2));
            Assert.True(received - failed >= expected - TimeSpan.FromMilliseconds(100),
                $"attempt {attempt} came {(received - failed).TotalSeconds:0.00} s after attempt {attempt - 1} failed; the backoff is {expected.TotalSeconds:0} s. {story}");
        }

        // Requeue: the job leaves the dead letters and runs again from attempt 1.
        var receivedBefore = events.Count(e => e.State == "Received" && e.Attempt == 1);
        var (status, answer) = await jobs.RequeueAsync();
        Assert.True(status == HttpStatusCode.OK, $"POST /jobs/dead-letters/requeue answered {(int)status}: {answer}");
        var requeued = JsonSerializer.Deserialize<RequeueAnswer>(answer, WorkerJobs.Json);
        Assert.True(requeued is { Requeued: >= 1 }, $"requeue answered {answer}");

        await Poll.UntilAsync(
            $"job {jobId} received again with attempt 1 after the requeue",
            TimeSpan.FromSeconds(30),
            () => jobs.EventsOrNoneAsync(500),
            e => e.Count(x => x.JobId == jobId && x.State == "Received" && x.Attempt == 1) > receivedBefore,
            e => WorkerJobs.Describe(e.Where(x => x.JobId == jobId)));
    }

    [Fact]
    public async Task A_message_that_is_not_a_job_goes_to_the_dead_letter_queue_at_once_without_retries()
    {
        using var jobs = new WorkerJobs(fixture.App);
        var messageId = $"malformed-{Guid.NewGuid():N}";
        await PublishAsync("not json"u8.ToArray(), messageId);

        var dead = await Poll.UntilAsync(
            $"the malformed message {messageId} listed in GET /jobs/dead-letters",
            TimeSpan.FromSeconds(20),
            () => jobs.DeadLettersAsync(),
            letters => letters.Any(l => l.JobId == messageId),
            letters => $"{letters.Count} dead letters: {string.Join("; ", letters.TakeLast(5))}",
            TimeSpan.FromMilliseconds(250));
        var letter = dead.Single(l => l.JobId == messageId);
        output.WriteLine($"dead letter: {letter}");
        Assert.Equal("(malformed)", letter.Type);
        Assert.Equal(0, letter.Attempts);
        Assert.Contains("not a job", letter.Error ?? "", StringComparison.OrdinalIgnoreCase);

        // One event, DeadLettered; nothing was retried. Give a would-be retry (1 s backoff) time to show.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var events = (await jobs.EventsAsync(500)).Where(e => e.JobId == messageId).ToList();
        var story = WorkerJobs.Describe(events);
        Assert.True(events.Count == 1 && events[0].State == "DeadLettered", $"expected exactly one DeadLettered event:{Environment.NewLine}{story}");

        // A requeue leaves it where it is: it cannot be turned into a job.
        var (status, answer) = await jobs.RequeueAsync();
        Assert.True(status == HttpStatusCode.OK, $"POST /jobs/dead-letters/requeue answered {(int)status}: {answer}");
        Assert.Contains(await jobs.DeadLettersAsync(), l => l.JobId == messageId);
    }

    private async Task PublishAsync(byte[] body, string? messageId)
    {
        var factory = new ConnectionFactory { Uri = new Uri(fixture.App.GetConnectionString("messaging")) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var properties = new BasicProperties { Persistent = true, ContentType = "application/json" };
        if (messageId is not null)
        {
            properties.MessageId = messageId;
        }

        // mandatory + confirmation tracking: this throws unless the broker routed the message to the queue.
        await channel.BasicPublishAsync("", JobsQueue, mandatory: true, properties, body);
        output.WriteLine($"published {Encoding.UTF8.GetString(body)} to {JobsQueue}");
    }
}
