using System.Diagnostics;
using System.Globalization;
using SitMessenger.Hosting.LocalServers;

namespace SitMessenger.AppHost.Extensions;

/// <summary>
/// When an AppHost is killed, DCP (which watches it) stops what it started; a daemon a server spawned on its own
/// (RabbitMQ's Erlang port mapper) is not among those. Whoever takes the state folder next stops whatever still works
/// in it, found by the folder in its command line, environment or working folder.
/// </summary>
internal static class LeftoverProcesses
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    public static void Stop(string stateDirectory)
    {
        // Whoever started us (dotnet run, a script, a test runner) may name the folder too: not ours to stop.
        var leftovers = LocalProcessTable.Using(stateDirectory, except: LocalProcessTable.Ancestors());
        if (leftovers.Count == 0)
        {
            return;
        }

        Console.WriteLine($"Stopping {leftovers.Count} process(es) a previous AppHost left in {stateDirectory}: {string.Join(", ", leftovers.Select(l => l.Pid))}");
        foreach (var (pid, _) in leftovers)
        {
            Signal(pid, kill: false);
        }

        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Patience && leftovers.Any(l => LocalProcessTable.IsAlive(l.Pid)))
        {
            Thread.Sleep(200);
        }

        foreach (var (pid, _) in leftovers.Where(l => LocalProcessTable.IsAlive(l.Pid)))
        {
            Signal(pid, kill: true);
        }
    }

    private static void Signal(int pid, bool kill)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { kill ? "-KILL" : "-TERM", pid.ToString(CultureInfo.InvariantCulture) } });
            process?.WaitForExit();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No kill command: nothing more we can do than leave it.
        }
    }
}
