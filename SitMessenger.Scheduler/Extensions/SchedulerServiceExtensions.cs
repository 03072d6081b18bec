using System.Text.Json;
using Microsoft.Extensions.Options;
using SitMessenger.Chat.Messaging;
using SitMessenger.Scheduler.Scheduling;

namespace SitMessenger.Scheduler.Extensions;

internal static class SchedulerServiceExtensions
{
    public static WebApplicationBuilder AddSitMessengerScheduler(this WebApplicationBuilder builder)
    {
        var services = builder.Services;

        services.ConfigureHttpJsonOptions(json =>
        {
            // The same field style as the Api, for the same dashboard.
            json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            json.SerializerOptions.DictionaryKeyPolicy = null;
        });

        services.AddOptions<SchedulerOptions>().BindConfiguration(SchedulerOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SchedulerOptions>, SchedulerOptionsValidator>();

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<SchedulerTelemetry>();
        builder.AddTelemetrySources(SchedulerTelemetry.Name, "SitMessenger.Jobs");

        services.AddSingleton<JobPublisher>();
        services.AddSingleton<JobCatalog>();
        services.AddSingleton<JobHistory>();
        services.AddSingleton<SchedulerLease>();
        services.AddSingleton<JobDispatcher>();
        services.AddSingleton<ScheduleStatus>();

        // Order matters: hosted services stop in reverse, so the loop stops publishing before the lease is released.
        services.AddHostedService<LeaderElection>();
        services.AddHostedService<JobScheduler>();
        return builder;
    }
}
