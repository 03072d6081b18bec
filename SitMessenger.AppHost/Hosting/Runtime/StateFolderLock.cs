using System.Diagnostics;
using System.Globalization;

namespace SitMessenger.AppHost.Hosting;

/// <summary>
/// One AppHost per state folder. The lock is an OS file lock, released even when the AppHost is killed; whoever
/// takes it next stops what a killed predecessor left running (servers run in their own sessions, so they outlive
/// it), found by the state folder in their command line or environment.
/// </summary>
internal sealed class StateFolderLock : IDisposable
{
    /// <summary>Set in every child's environment; some servers (Redis) rewrite their command line and keep no path in it.</summary>
    public const string MarkerVariable = "SITMESSENGER_APPHOST_STATE";

    private readonly FileStream _lock;

    private StateFolderLock(FileStream fileLock) => _lock = fileLock;

    public static StateFolderLock Acquire(string stateDirectory)
    {
        var path = Path.Combine(stateDirectory, "apphost.lock");
        try
        {
            var fileLock = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            fileLock.SetLength(0);
            using (var writer = new StreamWriter(fileLock, leaveOpen: true))
            {
                writer.Write(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            }

            fileLock.Flush();
            return new StateFolderLock(fileLock);
        }
        catch (IOException)
        {
            var owner = File.Exists(path) ? File.ReadAllText(path).Trim() : "?";
            throw new ResourceStartException("apphost",
                $"another AppHost (pid {owner}) is using the state folder {stateDirectory}. Stop it, or pass another --state-dir.");
        }
    }

    /// <summary>Stops processes a previous AppHost on this folder left behind. Returns what was stopped.</summary>
    public static async Task<IReadOnlyList<string>> StopLeftoversAsync(string stateDirectory, TimeSpan patience)
    {
        var leftovers = FindUsing(stateDirectory);
        foreach (var (pid, _) in leftovers)
        {
            NativeSignals.Send(pid, System.Runtime.InteropServices.PosixSignal.SIGTERM);
        }

        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < patience && leftovers.Any(l => IsAlive(l.Pid)))
        {
            await Task.Delay(200);
        }

        foreach (var (pid, _) in leftovers.Where(l => IsAlive(l.Pid)))
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill(entireProcessTree: true);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
            {
                // Gone meanwhile.
            }
        }

        return [.. leftovers.Select(l => $"{l.Pid} {l.CommandLine}")];
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

    public void Dispose() => _lock.Dispose();
}
