using System.Diagnostics;
using System.Globalization;

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
        var leftovers = FindUsing(stateDirectory);
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
        while (clock.Elapsed < Patience && leftovers.Any(l => IsAlive(l.Pid)))
        {
            Thread.Sleep(200);
        }

        foreach (var (pid, _) in leftovers.Where(l => IsAlive(l.Pid)))
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

    private static List<(int Pid, string CommandLine)> FindUsing(string stateDirectory)
    {
        var found = new List<(int, string)>();
        // Whoever started us (dotnet run, a script, a test runner) may name the folder too: not ours to stop.
        var ancestors = Ancestors();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid) || ancestors.Contains(pid))
            {
                continue;
            }

            try
            {
                var commandLine = File.ReadAllText(Path.Combine(entry, "cmdline")).Replace('\0', ' ').Trim();
                var environment = File.ReadAllText(Path.Combine(entry, "environ"));
                // Redis rewrites its command line and environment for its process title; its working folder stays.
                var workingFolder = File.ResolveLinkTarget(Path.Combine(entry, "cwd"), returnFinalTarget: false)?.FullName ?? "";
                if (commandLine.Contains(stateDirectory, StringComparison.Ordinal)
                    || environment.Contains(stateDirectory, StringComparison.Ordinal)
                    || workingFolder.StartsWith(stateDirectory, StringComparison.Ordinal))
                {
                    found.Add((pid, commandLine));
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Ended while we looked, or a kernel thread.
            }
        }

        return found;
    }

    private static HashSet<int> Ancestors()
    {
        var chain = new HashSet<int>();
        for (var pid = Environment.ProcessId; pid > 1 && chain.Add(pid);)
        {
            try
            {
                // /proc/<pid>/stat: "pid (name) state ppid ..."; the name may hold spaces, so read after the last ')'.
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                pid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                break;
            }
        }

        return chain;
    }

    private static bool IsAlive(int pid) =>
        File.Exists($"/proc/{pid}/stat") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);
}
