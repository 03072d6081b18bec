using System.Globalization;

namespace SitMessenger.Hosting.LocalServers;

/// <summary>A process found in /proc: its id and command line.</summary>
public sealed record LocalProcess(int Pid, string CommandLine);

/// <summary>
/// What /proc says about the processes on this machine: the one place that reads it, for the AppHost (stopping what a
/// killed predecessor left in its state folder) and the tests (checking that nothing was left).
/// </summary>
public static class LocalProcessTable
{
    /// <summary>
    /// Processes working in <paramref name="folder"/>: named in their command line or environment, or running inside it
    /// (Redis rewrites its command line and environment for its process title; its working folder stays).
    /// </summary>
    public static IReadOnlyList<LocalProcess> Using(string folder, IReadOnlySet<int>? except = null)
    {
        var found = new List<LocalProcess>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid) || pid == Environment.ProcessId || except?.Contains(pid) == true)
            {
                continue;
            }

            try
            {
                var commandLine = File.ReadAllText(Path.Combine(entry, "cmdline")).Replace('\0', ' ').Trim();
                var environment = File.ReadAllText(Path.Combine(entry, "environ"));
                var workingFolder = File.ResolveLinkTarget(Path.Combine(entry, "cwd"), returnFinalTarget: false)?.FullName ?? "";
                if (commandLine.Contains(folder, StringComparison.Ordinal)
                    || environment.Contains(folder, StringComparison.Ordinal)
                    || workingFolder.StartsWith(folder, StringComparison.Ordinal))
                {
                    found.Add(new LocalProcess(pid, commandLine));
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Ended while we looked, or a kernel thread.
            }
        }

        return found;
    }

    /// <summary>This process and the chain of those that started it.</summary>
    public static IReadOnlySet<int> Ancestors()
    {
        var chain = new HashSet<int>();
        for (int? pid = Environment.ProcessId; pid is > 1 && chain.Add(pid.Value);)
        {
            pid = ParentOf(pid.Value);
        }

        return chain;
    }

    /// <summary>The last process down the first line of descendants of <paramref name="pid"/> (itself when it has none).</summary>
    public static int Deepest(int pid)
    {
        for (var children = Children(pid); children.Count > 0; children = Children(pid))
        {
            pid = children.Min();
        }

        return pid;
    }

    public static IReadOnlyList<int> Children(int pid) =>
        [.. Directory.EnumerateDirectories("/proc")
            .Select(entry => int.TryParse(Path.GetFileName(entry), out var candidate) ? candidate : 0)
            .Where(candidate => candidate > 0 && ParentOf(candidate) == pid)];

    /// <summary>Running, not a zombie waiting to be reaped.</summary>
    public static bool IsAlive(int pid) => Stat(pid) is { } stat && stat.State != 'Z';

    public static int? ParentOf(int pid) => Stat(pid)?.Parent;

    private static (char State, int Parent)? Stat(int pid)
    {
        try
        {
            // "pid (name) state ppid ...": the name may hold spaces, so read after the last ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (fields[0][0], int.Parse(fields[1], CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }
}
