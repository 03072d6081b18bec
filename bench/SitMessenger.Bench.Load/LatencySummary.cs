namespace SitMessenger.Bench.Load;

/// <summary>Percentiles (nearest rank) of latencies in milliseconds.</summary>
internal sealed record LatencySummary(long Count, double Mean, double P50, double P95, double P99, double Max)
{
    public static LatencySummary From(IEnumerable<List<double>> perSender)
    {
        var all = new List<double>();
        foreach (var latencies in perSender)
        {
            all.AddRange(latencies);
        }

        if (all.Count == 0)
        {
            return new LatencySummary(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        }

        all.Sort();
        return new LatencySummary(all.Count, all.Average(), Percentile(all, 50), Percentile(all, 95), Percentile(all, 99), all[^1]);
    }

    private static double Percentile(List<double> sorted, double percent)
    {
        var rank = (int)Math.Ceiling(percent / 100.0 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }
}
