using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace SitMessenger.AppHost.Extensions;

internal static class AppHostBuilderExtensions
{
    /// <summary>Binds <see cref="AppHostOptions"/> from configuration and the AppHost's own command-line switches.</summary>
    public static AppHostOptions GetAppHostOptions(this IDistributedApplicationBuilder builder, string[] args)
    {
        builder.Configuration.AddCommandLine(args, AppHostOptions.CommandLineSwitches);
        return builder.Configuration.GetSection(AppHostOptions.SectionName).Get<AppHostOptions>() ?? new AppHostOptions();
    }

    /// <summary>
    /// In run mode, takes the state folder (<c>.state</c> in the working copy unless configured) for this AppHost alone
    /// until the application is disposed. Publish mode has none: production keeps data in volumes and secrets in its own store.
    /// </summary>
    public static StateFolder? AcquireStateFolder(this IDistributedApplicationBuilder builder, AppHostOptions options)
    {
        if (!builder.ExecutionContext.IsRunMode)
        {
            return null;
        }

        var path = Path.GetFullPath(options.StateDirectory ?? Path.Combine(RepositoryRoot(builder.AppHostDirectory), ".state"));
        var state = StateFolder.Acquire(path);
        // Released when the application is disposed (a test starts the next AppHost on the same folder in-process); the
        // container disposes only what it created, so it owns it through a factory resolved at start.
        builder.Services.AddHostedService(_ => new StateFolderOwner(state));
        return state;
    }

    /// <summary>Prints each resource's progress in the terminal, and one line when all are up.</summary>
    public static IDistributedApplicationBuilder ReportStartupProgress(this IDistributedApplicationBuilder builder)
    {
        // First among the hosted services: Aspire's own return from their start only once every resource has started,
        // and a reporter started after them would print the whole start-up at once, at its end.
        builder.Services.Insert(0, ServiceDescriptor.Singleton<IHostedService, StartupProgressReporter>());
        return builder;
    }

    /// <summary>Starts a crashed service again (DCP leaves it exited).</summary>
    public static IDistributedApplicationBuilder RestartCrashedServices(this IDistributedApplicationBuilder builder)
    {
        // Watching from the first moment: a service can crash while the others are still starting.
        builder.Services.Insert(0, ServiceDescriptor.Singleton<IHostedService, CrashedServiceRestarter>());
        return builder;
    }

    private static string RepositoryRoot(string appHostDirectory)
    {
        for (var folder = new DirectoryInfo(appHostDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "SitMessenger.sln")))
            {
                return folder.FullName;
            }
        }

        return appHostDirectory;
    }
}
