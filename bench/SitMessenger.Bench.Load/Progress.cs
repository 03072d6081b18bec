using System.Diagnostics;
using System.Globalization;

namespace SitMessenger.Bench.Load;

/// <summary>Progress lines on stderr with the time since the benchmark started; the figures go to stdout.</summary>
internal static class Progress
{
    private static readonly long StartedAt = Stopwatch.GetTimestamp();
    private static readonly Lock Gate = new();

    public static TimeSpan Elapsed => Stopwatch.GetElapsedTime(StartedAt);

    public static void Write(string message)
    {
        lock (Gate)
        {
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{Elapsed.TotalSeconds,6:0.0}s] {message}"));
        }
    }
}
