using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace SitMessenger.AppHost.Extensions;

/// <summary>How closely a resource's health check follows it until it is first healthy.</summary>
internal sealed class PromptReadinessOptions
{
    /// <summary>Between two tries of a check that has not passed yet.</summary>
    public TimeSpan Step { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How long one call keeps trying before it reports what it last saw.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(10);
}

internal static class PromptReadinessExtensions
{
    /// <summary>
    /// Makes every resource's health checks notice readiness within a fifth of a second while it starts.
    /// </summary>
    /// <remarks>
    /// Aspire checks a resource that is not healthy yet after 1, 2, 3, 4 and then every 5 s, so a server or service
    /// became ready on average ~2.5 s before anyone knew, and everything waiting for it started that much later: twice on
    /// the way to the Gateway (RabbitMQ, then the Api). Until a check has passed once, each call now tries again every
    /// <see cref="PromptReadinessOptions.Step"/> for up to <see cref="PromptReadinessOptions.Window"/>, answering the
    /// moment it passes. Once it has passed, calls are single tries as before, so an outage later shows as soon as Aspire
    /// looks, not a window later.
    /// </remarks>
    public static IDistributedApplicationBuilder WithPromptReadiness(this IDistributedApplicationBuilder builder)
    {
        builder.Services.AddOptions<PromptReadinessOptions>();
        builder.Services.AddOptions<HealthCheckServiceOptions>()
            .PostConfigure<IOptions<PromptReadinessOptions>>((checks, polling) =>
            {
                foreach (var registration in checks.Registrations)
                {
                    var inner = registration.Factory;
                    var state = new UntilFirstHealthy.State();
                    registration.Factory = services => new UntilFirstHealthy(inner(services), state, polling.Value);
                }
            });
        return builder;
    }
}

/// <summary>A health check tried repeatedly within one call until it has passed once.</summary>
internal sealed class UntilFirstHealthy(IHealthCheck inner, UntilFirstHealthy.State state, PromptReadinessOptions options) : IHealthCheck
{
    /// <summary>Shared by the instances one registration makes (the health check service makes one per call).</summary>
    internal sealed class State
    {
        private int _passed;

        public bool HasPassed => Volatile.Read(ref _passed) == 1;

        public void Passed() => Volatile.Write(ref _passed, 1);
    }

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (state.HasPassed)
        {
            return await inner.CheckHealthAsync(context, cancellationToken);
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var result = await TryAsync(context, cancellationToken);
            if (result.Status == HealthStatus.Healthy)
            {
                state.Passed();
                return result;
            }

            if (clock.Elapsed + options.Step >= options.Window || cancellationToken.IsCancellationRequested)
            {
                return result;
            }

            await Task.Delay(options.Step, cancellationToken);
        }
    }

    private async Task<HealthCheckResult> TryAsync(HealthCheckContext context, CancellationToken cancellationToken)
    {
        try
        {
            return await inner.CheckHealthAsync(context, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // What the health check service itself would have made of it; here it must not end the tries early.
            return new HealthCheckResult(context.Registration.FailureStatus, ex.Message, ex);
        }
    }
}
