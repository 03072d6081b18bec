using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests;

[Collection(SystemCollection.Name)]
public sealed class AppHostTests(SitMessengerAppFixture fixture)
{
    [Fact]
    public async Task Every_service_reports_healthy_with_its_dependencies()
    {
        foreach (var name in new[] { "api", "worker", "scheduler", "gateway" })
        {
            using var client = new HttpClient { BaseAddress = fixture.App.GetEndpoint(name) };
            using var response = await client.GetAsync(new Uri("/health", UriKind.Relative));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{name} /health: {(int)response.StatusCode} {body}");
            Assert.Contains("\"status\":\"Healthy\"", body, StringComparison.Ordinal);
        }

        using var api = new HttpClient { BaseAddress = fixture.App.GetEndpoint("api") };
        var apiHealth = await api.GetStringAsync(new Uri("/health", UriKind.Relative));
        Assert.Contains("PostgreSql", apiHealth, StringComparison.Ordinal);
        Assert.Contains("StackExchange.Redis", apiHealth, StringComparison.Ordinal);
        Assert.Contains("RabbitMQ.Client", apiHealth, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_through_the_gateway_reaches_the_api()
    {
        var answer = await fixture.Gateway.GetFromJsonAsync<Dictionary<string, string>>(new Uri("/api/v1/ping/?id=hello-42", UriKind.Relative));
        Assert.Equal("hello-42", answer!["id"]);
    }

    [Fact]
    public void Every_resource_is_running_and_healthy_and_the_migrator_finished_cleanly()
    {
        var statuses = fixture.App.Statuses();
        var names = statuses.Select(s => s.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "postgres", "sitdb", "cache", "messaging", "migrations", "api", "worker", "scheduler", "gateway" }, names);
        Assert.Equal(2, fixture.App.Replicas("api").Count);
        var migrations = fixture.App.Status("migrations");
        Assert.True(migrations.State == "Finished" && migrations.ExitCode == 0, $"migrations: {migrations.State}, exit code {migrations.ExitCode}");
        foreach (var name in new[] { "postgres", "cache", "messaging", "api", "worker", "scheduler", "gateway" })
        {
            Assert.All(fixture.App.Replicas(name), s => Assert.True(s.IsHealthy, $"{s.ResourceId}: {s.State} ({s.Health})"));
        }
    }

    [Fact]
    public async Task A_killed_api_is_restarted_and_the_gateway_serves_again()
    {
        var before = fixture.App.Status("api");
        Assert.NotNull(before.ProcessId);

        using (var process = Process.GetProcessById(fixture.App.ServiceProcessId("api")!.Value))
        {
            process.Kill();
            await process.WaitForExitAsync();
        }

        await Pipeline.Poll.UntilRestartedAsync(fixture.App, "api", before.ProcessId, TimeSpan.FromSeconds(60));
        await Pipeline.Poll.UntilAsync("the Gateway answering through the restarted Api", TimeSpan.FromSeconds(30),
            async () => (await fixture.Gateway.GetAsync(new Uri("/api/v1/ping/?id=back", UriKind.Relative))).StatusCode,
            status => status == HttpStatusCode.OK);
    }
}
