using System.Globalization;

namespace SitMessenger.Bench.Load;

/// <summary>A process's peak (VmHWM) and current (VmRSS) resident memory, from /proc/&lt;pid&gt;/status.</summary>
internal sealed record ProcessMemory(int ProcessId, double PeakMiB, double CurrentMiB)
{
    public static ProcessMemory? Read(int processId)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(string.Create(CultureInfo.InvariantCulture, $"/proc/{processId}/status"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // The process is gone (or not ours to read).
        }

        var peak = Kibibytes(lines, "VmHWM:");
        var current = Kibibytes(lines, "VmRSS:");
        return peak is null || current is null ? null : new ProcessMemory(processId, peak.Value / 1024.0, current.Value / 1024.0);
    }

    // "VmHWM:\t  312345 kB"
    private static long? Kibibytes(string[] lines, string key)
    {
        var line = lines.FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
        if (line is null)
        {
            return null;
        }

        var parts = line[key.Length..].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return parts.Length > 0 && long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;
    }
}
