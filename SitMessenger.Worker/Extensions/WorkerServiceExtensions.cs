using System.Text.Json;
using SitMessenger.Chat.Messaging;
using SitMessenger.Chat.Storage;
using SitMessenger.Worker.Flushing;
using SitMessenger.Worker.Jobs;
using SitMessenger.Worker.Maintenance;

namespace SitMessenger.Worker.Extensions;

internal static class WorkerServiceExtensions
{
    public static IHostApplicationBuilder AddJobProcessing(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
        services.AddSingleton(TimeProvider.System);
        builder.AddTelemetrySources(WorkerTelemetry.Name, JobPublisher.Source.Name);

        services.AddOptions<JobOptions>().BindConfiguration(JobOptions.SectionName);
        services.AddOptions<FlushOptions>().BindConfiguration(FlushOptions.SectionName);
        services.AddOptions<SegmentPolicy>().BindConfiguration(SegmentPolicy.SectionName);
        services.AddOptions<SegmentStoreOptions>().BindConfiguration(SegmentStoreOptions.SectionName)
            .Validate(options => !string.IsNullOrWhiteSpace(options.Root), "Segments:Root is not set: the folder (a shared volume in production) segment files are kept in.")
            .ValidateOnStart();
        services.AddSingleton<ISegmentStore, FileSystemSegmentStore>();
        services.AddSingleton<ChatStore>();
        services.AddSingleton<ChatSegmentCatalog>();

        services.AddSingleton<JobPublisher>();
        services.AddSingleton<JobEvents>();
        services.AddSingleton<DeadLetters>();
        services.AddSingleton<IJobHandler, ChatFlusher>();
        services.AddSingleton<IJobHandler, PendingSweep>();
        services.AddSingleton<IJobHandler, ExpiredTokenCleanup>();
        services.AddSingleton<IJobHandler, OrphanSegmentRemoval>();
        services.AddSingleton<IJobHandler, SegmentCompaction>();
        services.AddHostedService<JobConsumer>();
        return builder;
    }
}
