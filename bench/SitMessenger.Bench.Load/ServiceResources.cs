using System.Diagnostics;
using System.Globalization;

namespace SitMessenger.Bench.Load;

internal enum ProcessRole
{
    /// <summary>One of our .NET services (a replica of the Api, the Worker, the Scheduler, the Gateway): one process.</summary>
    Service,

    /// <summary>PostgreSQL, Redis or RabbitMQ: the whole tree under its launcher (PostgreSQL forks a backend per connection).</summary>
    Server,
}

/// <summary>A process the benchmark watches, under the name of its resource.</summary>
internal sealed record WatchedProcess(string Name, int ProcessId, ProcessRole Role);

/// <summary>
/// What one watched process used in a measured window: CPU seconds, and for a service its peak RSS (VmHWM, since the
/// window's start when the kernel let it be reset, else since the process started) and its RSS at the window's end.
/// </summary>
/// <param name="PeakBeforeWindowMiB">VmHWM just before it was reset: the peak of the warm-up and what came before it.</param>
internal sealed record ProcessUsage(
    string Name, ProcessRole Role, int ProcessId, double? CpuSeconds, ProcessMemory? Memory, bool PeakSinceWindowStart, double? PeakBeforeWindowMiB = null);

/// <summary>Every watched process in one measured window.</summary>
/// <param name="ServicesTogetherMiB">The services' resident memory at the window's end with each shared page counted once.</param>
internal sealed record ResourceUsage(IReadOnlyList<ProcessUsage> Processes, double? ServicesTogetherMiB = null)
{
    public static readonly ResourceUsage None = new([]);

    /// <summary>The services' RSS at the window's end, added up; null when none was readable.</summary>
    public double? ServicesRssMiB => SumOfServices(m => m.CurrentMiB);

    /// <summary>The services' peak RSS, added up (each process's own peak: an upper bound of their peak together).</summary>
    public double? ServicesPeakMiB => SumOfServices(m => m.PeakMiB);

    private double? SumOfServices(Func<ProcessMemory, double> figure)
    {
        var memories = Processes.Where(p => p.Role == ProcessRole.Service).Select(p => p.Memory).OfType<ProcessMemory>().ToList();
        return memories.Count == 0 ? null : memories.Sum(figure);
    }
}

/// <summary>CPU time and memory of the system's processes, read from /proc over a measured window.</summary>
internal static class ServiceResources
{
    // /proc/<pid>/stat counts in USER_HZ, which the kernel fixes at 100 on every architecture .NET runs on (whatever
    // its internal HZ), so `getconf CLK_TCK` would only ever say 100 here.
    private const double ClockTicksPerSecond = 100;

    /// <summary>
    /// Reads every process's CPU time at <paramref name="measureFrom"/> and at <paramref name="stopAt"/> (<see cref="Stopwatch"/>
    /// timestamps), and the services' memory at the end; the services' peaks are reset at the start so they are the window's.
    /// </summary>
    public static async Task<ResourceUsage> MeasureAsync(
        IReadOnlyList<WatchedProcess> processes, long measureFrom, long stopAt, CancellationToken cancellationToken)
    {
        if (processes.Count == 0)
        {
            return ResourceUsage.None;
        }

        await DelayUntilAsync(measureFrom, cancellationToken);
        var peakBefore = processes.Where(p => p.Role == ProcessRole.Service).ToDictionary(p => p.ProcessId, p => ProcessMemory.Read(p.ProcessId)?.PeakMiB);
        var peakReset = peakBefore.Keys.ToDictionary(pid => pid, ResetPeak);
        var before = CpuTicks(processes);
        await DelayUntilAsync(stopAt, cancellationToken);
        var after = CpuTicks(processes);
        var together = ResidentPages.TogetherMiB(processes.Where(p => p.Role == ProcessRole.Service).Select(p => p.ProcessId));
        return new ResourceUsage([.. processes.Select(p =>
        {
            double? cpu = before.TryGetValue(p.Name, out var b) && after.TryGetValue(p.Name, out var a) ? (a - b) / ClockTicksPerSecond : null;
            var memory = p.Role == ProcessRole.Service ? ProcessMemory.Read(p.ProcessId) : null;
            return new ProcessUsage(p.Name, p.Role, p.ProcessId, cpu, memory, peakReset.GetValueOrDefault(p.ProcessId), peakBefore.GetValueOrDefault(p.ProcessId));
        })], together);
    }

    private static async Task DelayUntilAsync(long timestamp, CancellationToken cancellationToken)
    {
        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, cancellationToken);
        }
    }

    /// <summary>
    /// Writing 5 to clear_refs sets VmHWM back to the current RSS (Linux 4.0+), so each run's peak is its own rather
    /// than the warm-up's or an earlier run's; false when not allowed (another user's process).
    /// </summary>
    private static bool ResetPeak(int processId)
    {
        try
        {
            File.WriteAllText(string.Create(CultureInfo.InvariantCulture, $"/proc/{processId}/clear_refs"), "5");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>CPU ticks by watched name: a service's own, a server's whole tree; a process gone is left out.</summary>
    private static Dictionary<string, long> CpuTicks(IReadOnlyList<WatchedProcess> processes)
    {
        var table = ProcessStats();
        var ticks = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var process in processes)
        {
            if (!table.TryGetValue(process.ProcessId, out var root))
            {
                continue;
            }

            if (process.Role == ProcessRole.Service)
            {
                ticks[process.Name] = root.OwnTicks;
                continue;
            }

            // The tree's live processes, each with the time of the children it has reaped: a backend that ended inside
            // the window is then still counted (in its parent's cutime), and one that ended before is counted at both ends.
            var total = 0L;
            var pending = new Stack<int>([process.ProcessId]);
            var seen = new HashSet<int>();
            while (pending.TryPop(out var pid))
            {
                if (!seen.Add(pid) || !table.TryGetValue(pid, out var stat))
                {
                    continue;
                }

                total += stat.OwnTicks + stat.ReapedChildrenTicks;
                foreach (var (child, childStat) in table)
                {
                    if (childStat.Parent == pid)
                    {
                        pending.Push(child);
                    }
                }
            }

            ticks[process.Name] = total;
        }

        return ticks;
    }

    private readonly record struct Stat(int Parent, long OwnTicks, long ReapedChildrenTicks);

    /// <summary>Every process's parent and CPU ticks, from one pass over /proc/*/stat.</summary>
    private static Dictionary<int, Stat> ProcessStats()
    {
        var table = new Dictionary<int, Stat>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                // "pid (name) state ppid ... utime stime cutime cstime ...": the name may hold spaces and ')', so split
                // after the last ')'. After it, field 0 is the state, 1 the parent, 11..14 utime, stime, cutime, cstime.
                var text = File.ReadAllText(Path.Combine(entry, "stat"));
                var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
                table[pid] = new Stat(
                    (int)Parse(fields[1]), Parse(fields[11]) + Parse(fields[12]), Parse(fields[13]) + Parse(fields[14]));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
                // Ended while we looked.
            }
        }

        return table;

        static long Parse(string field) => long.Parse(field, NumberStyles.Integer, CultureInfo.InvariantCulture);
    }
}
