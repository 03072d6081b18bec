using System.Buffers.Binary;
using System.Globalization;

namespace SitMessenger.Bench.Load;

/// <summary>
/// The memory several processes hold resident together: each physical page once. Adding up their RSS counts a page
/// that all of them map (the .NET runtime and framework assemblies, which every service loads) once per process; here
/// the page frames of every resident page are read from /proc/&lt;pid&gt;/pagemap and counted as a set.
/// </summary>
internal static class ResidentPages
{
    private const int PageSize = 4096;
    private const ulong Present = 1UL << 63;
    private const ulong FrameMask = (1UL << 55) - 1;

    /// <summary>MiB resident in the processes together; null when a pagemap could not be read (not root, or a process ended).</summary>
    public static double? TogetherMiB(IEnumerable<int> processIds)
    {
        var frames = new HashSet<ulong>();
        try
        {
            foreach (var pid in processIds)
            {
                AddFrames(pid, frames);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // Without CAP_SYS_ADMIN the kernel reports every frame as 0: no count can be made from that.
        return frames.Count <= 1 ? null : frames.Count * (double)PageSize / (1024 * 1024);
    }

    private static void AddFrames(int pid, HashSet<ulong> frames)
    {
        using var pagemap = File.OpenHandle(string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}/pagemap"));
        var buffer = new byte[64 * 1024];
        foreach (var (start, end) in ResidentMappings(pid))
        {
            for (var address = start; address < end;)
            {
                var pages = (int)Math.Min((end - address) / PageSize, (ulong)(buffer.Length / 8));
                var read = RandomAccess.Read(pagemap, buffer.AsSpan(0, pages * 8), (long)(address / PageSize * 8));
                for (var offset = 0; offset + 8 <= read; offset += 8)
                {
                    var entry = BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(offset));
                    if ((entry & Present) != 0)
                    {
                        frames.Add(entry & FrameMask);
                    }
                }

                address += (ulong)pages * PageSize;
            }
        }
    }

    /// <summary>The address ranges of a process's mappings that have any page resident (the rest need no reading).</summary>
    private static List<(ulong Start, ulong End)> ResidentMappings(int pid)
    {
        var mappings = new List<(ulong, ulong)>();
        (ulong Start, ulong End)? current = null;
        foreach (var line in File.ReadLines(string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}/smaps")))
        {
            var dash = line.IndexOf('-', StringComparison.Ordinal);
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (dash > 0 && space > dash && ulong.TryParse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var start)
                && ulong.TryParse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var end))
            {
                current = (start, end);
            }
            else if (current is { } mapping && line.StartsWith("Rss:", StringComparison.Ordinal))
            {
                if (line.AsSpan(4).Trim().ToString() is not "0 kB")
                {
                    mappings.Add(mapping);
                }

                current = null;
            }
        }

        return mappings;
    }
}
