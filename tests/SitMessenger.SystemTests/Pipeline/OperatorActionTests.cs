using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests.Pipeline;

/// <summary>The Worker's and the Scheduler's operator actions answer only the operator key the AppHost generated.</summary>
[Collection(SystemCollection.Name)]
public sealed class OperatorActionTests(SitMessengerAppFixture fixture)
{
    // Scheduled at minute 17 of each hour ("0 17 * * * *"): any other run within the test is one an operator started.
    private const string Job = "delete-expired-tokens";

    private const int ScheduledMinute = 17;

    private static readonly string?[] RefusedCredentials = [null, "Bearer not-the-key", "X-Dashboard-Action"];

    [Fact]
    public async Task Running_a_job_now_needs_the_operator_key_and_without_it_nothing_is_published()
    {
        using var scheduler = new HttpClient { BaseAddress = fixture.App.GetEndpoint("scheduler"), Timeout = TimeSpan.FromSeconds(15) };
        using var jobs = new WorkerJobs(fixture.App);
        var started = DateTimeOffset.UtcNow;
        var before = Runs(await jobs.EventsAsync(2000));

        foreach (var credential in RefusedCredentials)
        {
            using var refused = await scheduler.SendAsync(RunNow(credential));
            await AssertRefusedAsync(refused, credential);
        }

        using var accepted = await scheduler.SendAsync(RunNow("Bearer " + await fixture.App.OperatorKeyAsync()));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var jobId = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("job_id").GetString();

        // The Worker ran the one the key started, and only that one.
        var events = await Poll.UntilAsync($"job {jobId} received by the Worker", TimeSpan.FromSeconds(30),
            () => jobs.EventsOrNoneAsync(2000), e => e.Any(x => x.JobId == jobId && x.State == "Received"));
        Assert.Equal(before + 1 + ScheduledRunsBetween(started, DateTimeOffset.UtcNow), Runs(events));
    }

    // A test that happens to run across hh:17:00 also sees the schedule's own run.
    private static int ScheduledRunsBetween(DateTimeOffset from, DateTimeOffset to)
    {
        var runs = 0;
        for (var hour = new DateTimeOffset(from.Year, from.Month, from.Day, from.Hour, 0, 0, TimeSpan.Zero); hour <= to; hour = hour.AddHours(1))
        {
            var scheduled = hour.AddMinutes(ScheduledMinute);
            runs += scheduled >= from.AddSeconds(-1) && scheduled <= to ? 1 : 0;
        }

        return runs;
    }

    [Fact]
    public async Task Requeueing_dead_letters_needs_the_operator_key()
    {
        using var jobs = new WorkerJobs(fixture.App);
        foreach (var key in new[] { null, "not-the-key" })
        {
            var (status, body) = await jobs.RequeueAsync(key);
            Assert.True(status == HttpStatusCode.Unauthorized, $"{key ?? "no key"}: {(int)status} {body}");
            Assert.False(string.IsNullOrEmpty(JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString()));
        }

        var (accepted, answer) = await jobs.RequeueAsync();
        Assert.True(accepted == HttpStatusCode.OK, $"{(int)accepted} {answer}");
    }

    private static HttpRequestMessage RunNow(string? credential)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"/schedule/{Job}/run", UriKind.Relative));
        if (credential == "X-Dashboard-Action")
        {
            // The header that used to be enough.
            request.Headers.Add("X-Dashboard-Action", "1");
        }
        else if (credential is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", credential);
        }

        return request;
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, string? credential)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{credential ?? "no key"}: {(int)response.StatusCode} {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.False(string.IsNullOrEmpty(JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString()));
    }

    private static int Runs(IEnumerable<JobEvent> events) => events.Count(e => e.Type == Job && e.State == "Received");
}
