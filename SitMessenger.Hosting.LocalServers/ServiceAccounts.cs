using System.Diagnostics;

namespace SitMessenger.Hosting.LocalServers;

/// <summary>Servers that refuse to run as root (PostgreSQL) or expect their own account (RabbitMQ) run under it when we are root.</summary>
internal static class ServiceAccounts
{
    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>Hands a folder to a service account, and opens the path to it so that account can get there.</summary>
    public static async Task GiveToAsync(string folder, string account, CancellationToken cancellationToken)
    {
        if (!IsRoot)
        {
            return;
        }

        await RunAsync(new ProcessStartInfo("chown") { ArgumentList = { "-R", $"{account}:{account}", folder } }, cancellationToken);

        // A temporary state folder is created 0700; the service account needs to traverse the folders above its own.
        for (var parent = Directory.GetParent(folder); parent is not null && parent.FullName != "/"; parent = parent.Parent)
        {
            var mode = File.GetUnixFileMode(parent.FullName);
            if (!mode.HasFlag(UnixFileMode.OtherExecute))
            {
                File.SetUnixFileMode(parent.FullName, mode | UnixFileMode.OtherExecute);
            }
        }
    }

    /// <summary>Runs a preparation step (initdb, chown) to completion; a failure carries its output.</summary>
    public static async Task RunAsync(ProcessStartInfo startInfo, CancellationToken cancellationToken)
    {
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"{startInfo.FileName} did not start.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{startInfo.FileName} {string.Join(' ', startInfo.ArgumentList)} exited with {process.ExitCode}: {(await errors).Trim()} {(await output).Trim()}");
        }
    }
}
