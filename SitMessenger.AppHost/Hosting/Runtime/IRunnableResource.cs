using System.Diagnostics;
using System.Runtime.InteropServices;

namespace SitMessenger.AppHost.Hosting;

/// <summary>A resource the runner starts as a local process and watches.</summary>
internal interface IRunnableResource
{
    string Name { get; }

    /// <summary>Executables it needs, each with the Debian package that ships it.</summary>
    IReadOnlyList<RequiredBinary> RequiredBinaries { get; }

    /// <summary>Stops with this signal first; killed after the stop timeout.</summary>
    PosixSignal StopSignal { get; }

    /// <summary>True for one-shot jobs: exit code 0 is success, and they are not restarted.</summary>
    bool RunsToCompletion { get; }

    /// <summary>Makes folders, first-run initialisation, config files. Runs before every start.</summary>
    Task PrepareAsync(RunContext context, CancellationToken cancellationToken);

    ProcessStartInfo CreateStartInfo(RunContext context);

    Task<HealthStatus> CheckHealthAsync(CancellationToken cancellationToken);

    /// <summary>Cleans up what outlives the process (an Erlang port mapper, for one).</summary>
    Task AfterStopAsync(RunContext context);
}

/// <summary>A resource with a one-time action once what it waits for is ready (creating a database).</summary>
internal interface IInitializedResource
{
    Task InitializeAsync(CancellationToken cancellationToken);
}

internal sealed record RequiredBinary(string Name, string DebianPackage);

internal sealed record HealthStatus(bool IsHealthy, string? Description)
{
    public static readonly HealthStatus Healthy = new(true, null);

    public static HealthStatus Unhealthy(string description) => new(false, description);
}

/// <summary>What a resource's start-up code needs from the runner.</summary>
internal sealed class RunContext(string stateDirectory, string environmentName, BinaryLocator binaries)
{
    public string StateDirectory { get; } = stateDirectory;

    public string EnvironmentName { get; } = environmentName;

    public BinaryLocator Binaries { get; } = binaries;

    public string DataDirectoryFor(string resourceName) => Path.Combine(StateDirectory, resourceName);

    /// <summary>Runs a short helper command (initdb, chown) and fails with its output when it fails.</summary>
    public static async Task RunToCompletionAsync(string resourceName, ProcessStartInfo startInfo, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(startInfo);
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        startInfo.UseShellExecute = false;
        using var process = Process.Start(startInfo)
            ?? throw new ResourceStartException(resourceName, $"could not start {startInfo.FileName}");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            var command = $"{startInfo.FileName} {string.Join(' ', startInfo.ArgumentList)}";
            throw new ResourceStartException(resourceName,
                $"'{command}' failed with exit code {process.ExitCode}:{Environment.NewLine}{await output}{await error}");
        }
    }
}

/// <summary>A resource could not start; the message says what failed and what to do about it.</summary>
public sealed class ResourceStartException(string resourceName, string message)
    : Exception($"{resourceName}: {message}")
{
    public string ResourceName { get; } = resourceName;
}
