using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using SitMessenger.AppHost.Hosting;
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
        Assert.Contains("postgres-sitdb", apiHealth, StringComparison.Ordinal);
        Assert.Contains("redis-cache", apiHealth, StringComparison.Ordinal);
        Assert.Contains("rabbitmq-messaging", apiHealth, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_through_the_gateway_reaches_the_api()
    {
        var answer = await fixture.Gateway.GetFromJsonAsync<Dictionary<string, string>>(new Uri("/api/v1/ping/?id=hello-42", UriKind.Relative));
        Assert.Equal("hello-42", answer!["id"]);
    }

    [Fact]
    public async Task The_dashboard_lists_every_resource_with_its_state()
    {
        using var dashboard = new HttpClient { BaseAddress = new Uri($"http://localhost:{fixture.App.DashboardPort}") };
        var page = await dashboard.GetStringAsync(new Uri("/", UriKind.Relative));
        Assert.Contains("SIT Messenger", page, StringComparison.Ordinal);

        var resources = await dashboard.GetFromJsonAsync<List<DashboardResource>>(new Uri("/api/resources", UriKind.Relative));
        var names = resources!.Select(r => r.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "postgres", "sitdb", "cache", "messaging", "migrations", "api", "worker", "scheduler", "gateway" }, names);
        Assert.Equal("Finished", resources!.Single(r => r.Name == "migrations").State);
    }

    [Fact]
    public async Task A_killed_api_is_restarted_and_the_gateway_serves_again()
    {
        var api = fixture.App.GetResource("api");
        var before = fixture.App.Snapshot(api);
        Assert.NotNull(before.ProcessId);

        using (var process = Process.GetProcessById(before.ProcessId!.Value))
        {
            process.Kill();
            await process.WaitForExitAsync();
        }

        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var now = fixture.App.Snapshot(api);
            if (now.State == ResourceState.Healthy && now.ProcessId is int pid && pid != before.ProcessId)
            {
                Assert.True(now.Restarts > before.Restarts);
                break;
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), $"api not back after 60 s: {now.State} {now.Detail}");
            await Task.Delay(200);
        }

        using var response = await fixture.Gateway.GetAsync(new Uri("/api/v1/ping/?id=back", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private sealed record DashboardResource(string Name, string State);
}
