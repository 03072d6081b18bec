using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using SitMessenger.AppHost.Extensions;

namespace SitMessenger.SystemTests;

/// <summary>How the AppHost's health checks follow a starting resource (no system needed).</summary>
public sealed class AppHostReadinessTests
{
    private static readonly PromptReadinessOptions Options = new() { Step = TimeSpan.FromMilliseconds(50), Window = TimeSpan.FromSeconds(5) };

    [Fact]
    public async Task A_starting_resource_is_reported_healthy_within_one_call_as_soon_as_its_check_passes()
    {
        var inner = new ScriptedCheck(failuresBeforePassing: 5);
        var check = new UntilFirstHealthy(inner, new UntilFirstHealthy.State(), Options);
        var clock = Stopwatch.StartNew();

        var result = await check.CheckHealthAsync(Context(check));

        Assert.Equal(HealthStatus.Healthy, result.Status);
        Assert.Equal(6, inner.Calls);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task A_resource_that_does_not_come_up_is_reported_unhealthy_once_the_window_is_over()
    {
        var inner = new ScriptedCheck(failuresBeforePassing: int.MaxValue);
        var options = new PromptReadinessOptions { Step = TimeSpan.FromMilliseconds(50), Window = TimeSpan.FromMilliseconds(400) };
        var check = new UntilFirstHealthy(inner, new UntilFirstHealthy.State(), options);

        var result = await check.CheckHealthAsync(Context(check));

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.InRange(inner.Calls, 2, 9);
    }

    [Fact]
    public async Task Once_healthy_a_failure_is_reported_at_the_first_try_so_an_outage_shows_at_once()
    {
        var state = new UntilFirstHealthy.State();
        var inner = new ScriptedCheck(failuresBeforePassing: 0);
        var check = new UntilFirstHealthy(inner, state, Options);
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(Context(check))).Status);

        inner.FailFromNowOn();
        var clock = Stopwatch.StartNew();
        var result = await new UntilFirstHealthy(inner, state, Options).CheckHealthAsync(Context(check));

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Equal(2, inner.Calls);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task A_check_that_throws_while_the_resource_starts_is_tried_again()
    {
        var inner = new ScriptedCheck(failuresBeforePassing: 2, throwInsteadOfFailing: true);
        var check = new UntilFirstHealthy(inner, new UntilFirstHealthy.State(), Options);

        var result = await check.CheckHealthAsync(Context(check));

        Assert.Equal(HealthStatus.Healthy, result.Status);
    }

    private static HealthCheckContext Context(IHealthCheck check) =>
        new() { Registration = new HealthCheckRegistration("test", check, HealthStatus.Unhealthy, tags: null) };

    private sealed class ScriptedCheck(int failuresBeforePassing, bool throwInsteadOfFailing = false) : IHealthCheck
    {
        private bool _failing;

        public int Calls { get; private set; }

        public void FailFromNowOn() => _failing = true;

        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            Calls++;
            if (!_failing && Calls > failuresBeforePassing)
            {
                return Task.FromResult(HealthCheckResult.Healthy());
            }

            return throwInsteadOfFailing
                ? throw new HttpRequestException("connection refused")
                : Task.FromResult(HealthCheckResult.Unhealthy("connection refused"));
        }
    }
}
