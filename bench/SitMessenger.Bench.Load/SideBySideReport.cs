using System.Globalization;
using System.Text;

namespace SitMessenger.Bench.Load;

/// <summary>
/// The figures of the runs: each run on its own as it ends, then one table with a row per run, so a regression of one
/// route (or of one process's CPU or memory) shows at a glance; then the two ratios the aims are written in.
/// </summary>
internal static class SideBySideReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static void WriteRun(BenchRun run)
    {
        var (plan, result) = (run.Plan, run.Result);
        var l = result.Latency;
        var counted = plan.Mode == BenchMode.Get ? "requests" : "messages";
        Console.WriteLine();
        Console.WriteLine($"{plan.Label} (measured window only): {plan.What}");
        Row(counted, LoadBenchmark.Number(l.Count));
        Row(counted + "/s", result.MessagesPerSecond.ToString("N1", Invariant));
        Row("latency p50", LoadBenchmark.Ms(l.P50));
        Row("latency p95", LoadBenchmark.Ms(l.P95));
        Row("latency p99", LoadBenchmark.Ms(l.P99));
        Row("latency max", LoadBenchmark.Ms(l.Max));
        Row("latency mean", LoadBenchmark.Ms(l.Mean));
        LoadBenchmark.WriteErrors("errors", result.Errors);
        Row("warmup", string.Create(Invariant, $"{run.WarmupSeconds} s, {result.WarmupMessages:N0} {counted}"));
        if (result.WarmupErrors.Total > 0)
        {
            LoadBenchmark.WriteErrors("warmup errors", result.WarmupErrors);
        }

        var usage = result.Resources;
        if (usage.Processes.Count == 0)
        {
            Row("processes", "not known (with --url, pass --api-pid for the Api's)");
            return;
        }

        Console.WriteLine(string.Create(Invariant, $"  {"process",-LoadBenchmark.LabelWidth}{"CPU s",10}{"peak MiB",12}{"RSS MiB",12}"));
        foreach (var p in usage.Processes)
        {
            var name = p.Role == ProcessRole.Server ? p.Name + " (tree)" : p.Name;
            var peak = p.Memory is null ? "-" : p.Memory.PeakMiB.ToString("N1", Invariant) + (p.PeakSinceWindowStart ? "" : "*");
            var rss = p.Memory is null ? "-" : p.Memory.CurrentMiB.ToString("N1", Invariant);
            Console.WriteLine(string.Create(Invariant, $"  {name,-LoadBenchmark.LabelWidth}{Cpu(p.CpuSeconds),10}{peak,12}{rss,12}"));
        }

        Row("services RSS", usage.ServicesRssMiB is double sum
            ? string.Create(Invariant, $"{sum:N1} MiB added up at the window's end (peaks added up: {usage.ServicesPeakMiB:N1} MiB)")
            : "not known");
        Row("services resident", usage.ServicesTogetherMiB is double together
            ? string.Create(Invariant, $"{together:N1} MiB together at the window's end, each page once (the runtime's pages are shared)")
            : "not known (reading /proc/<pid>/pagemap needs root)");
        if (usage.Processes.Any(p => p.Memory is not null && !p.PeakSinceWindowStart))
        {
            Row("", "* peak since the process started: its peak could not be reset at the window's start");
        }
    }

    /// <summary>One row per run, then the PATCH / POST and Gateway / direct ratios.</summary>
    public static void WriteTable(IReadOnlyList<BenchRun> runs, string? note)
    {
        var names = runs.SelectMany(r => r.Result.Resources.Processes.Select(p => p.Name)).Distinct(StringComparer.Ordinal).ToList();
        var widths = names.Select(n => Math.Max(n.Length + 1, 7)).ToList();
        Console.WriteLine();
        Console.WriteLine(string.Create(Invariant,
            $"Side by side (measured windows; rate in msg/s, req/s for GET; latency in ms; CPU = seconds each process used in the window; services' memory at its end in MiB: RSS added up, and resident together with each shared page once)"));
        var header = new StringBuilder(string.Create(Invariant, $"  {"run",-13}{"rate",10}{"p50",8}{"p95",8}{"p99",8}{"max",8}{"errors",8}  "));
        for (var i = 0; i < names.Count; i++)
        {
            header.Append(names[i].PadLeft(widths[i]));
        }

        Console.WriteLine(header.Append(names.Count > 0 ? "  services RSS  together" : "").ToString());
        foreach (var run in runs)
        {
            var (l, r) = (run.Result.Latency, run.Result);
            var line = new StringBuilder(string.Create(Invariant,
                $"  {run.Plan.Label,-13}{r.MessagesPerSecond,10:N1}{Cell(l.P50),8}{Cell(l.P95),8}{Cell(l.P99),8}{Cell(l.Max),8}{r.Errors.Total,8:N0}  "));
            for (var i = 0; i < names.Count; i++)
            {
                var process = r.Resources.Processes.FirstOrDefault(p => p.Name == names[i]);
                line.Append(Cpu(process?.CpuSeconds).PadLeft(widths[i]));
            }

            if (names.Count > 0)
            {
                line.Append((r.Resources.ServicesRssMiB is double sum ? sum.ToString("N1", Invariant) : "-").PadLeft(14));
                line.Append((r.Resources.ServicesTogetherMiB is double together ? together.ToString("N1", Invariant) : "-").PadLeft(10));
            }

            Console.WriteLine(line.ToString());
        }

        Console.WriteLine();
        Console.WriteLine($"PATCH / POST throughput: {Ratio(Rate(runs, "PATCH"), Rate(runs, "POST"), "PATCH", "POST")}");
        Console.WriteLine($"Gateway / direct (GET): {Ratio(Rate(runs, "GET gateway"), Rate(runs, "GET direct"), "GET gateway", "GET direct")}");
        if (note is not null)
        {
            Console.WriteLine(note);
        }
    }

    /// <summary>The runs' part of the one-line summary; with one run, the same words as before there were several.</summary>
    public static string Summary(IReadOnlyList<BenchRun> runs)
    {
        var text = new StringBuilder();
        if (runs.Count == 1)
        {
            text.Append(": ").Append(Figures(runs[0]));
        }
        else
        {
            text.Append(": ").AppendJoin("; ", runs.Select(r => $"{r.Plan.Label} {Figures(r)}"));
        }

        if (Rate(runs, "PATCH") is not null && Rate(runs, "POST") is not null)
        {
            text.Append("; PATCH/POST ").Append(Ratio(Rate(runs, "PATCH"), Rate(runs, "POST"), "PATCH", "POST"));
        }

        if (Rate(runs, "GET gateway") is not null && Rate(runs, "GET direct") is not null)
        {
            text.Append("; gateway/direct ").Append(Ratio(Rate(runs, "GET gateway"), Rate(runs, "GET direct"), "GET gateway", "GET direct"));
        }

        return text.ToString();
    }

    private static string Figures(BenchRun run)
    {
        var (l, r) = (run.Result.Latency, run.Result);
        var text = new StringBuilder(l.Count > 0
            ? string.Create(Invariant,
                $"{r.MessagesPerSecond:N1} {run.Plan.Unit}, p50 {l.P50:0.00} ms, p95 {l.P95:0.00} ms, p99 {l.P99:0.00} ms, max {l.Max:0.00} ms, {r.Errors.Total:N0} errors")
            : string.Create(Invariant,
                $"no {(run.Plan.Mode == BenchMode.Get ? "request" : "send")} succeeded, {r.Errors.Total:N0} errors ({string.Join(", ", r.Errors.Entries.Select(e => e.Key))})"));
        var processes = r.Resources.Processes;
        if (processes.Count > 0)
        {
            text.Append(", CPU s ").AppendJoin(' ', processes.Select(p => $"{p.Name} {Cpu(p.CpuSeconds)}"));
        }

        if (r.Resources.ServicesRssMiB is double sum)
        {
            text.Append(string.Create(Invariant, $", services RSS {sum:0.0} MiB"));
        }

        if (r.Resources.ServicesTogetherMiB is double together)
        {
            text.Append(string.Create(Invariant, $" ({together:0.0} MiB resident together)"));
        }

        return text.ToString();
    }

    private static double? Rate(IReadOnlyList<BenchRun> runs, string label) =>
        runs.FirstOrDefault(r => r.Plan.Label == label) is { Result.Latency.Count: > 0 } run ? run.Result.MessagesPerSecond : null;

    private static string Ratio(double? numerator, double? denominator, string numeratorRun, string denominatorRun) =>
        (numerator, denominator) switch
        {
            (double n, double d) when d > 0 => (n / d).ToString("0.00", Invariant),
            (null, _) => $"- (no {numeratorRun} figure)",
            _ => $"- (no {denominatorRun} figure)",
        };

    private static string Cell(double ms) => double.IsNaN(ms) ? "-" : ms.ToString("0.00", Invariant);

    private static string Cpu(double? seconds) => seconds is double s ? s.ToString("0.00", Invariant) : "-";

    private static void Row(string label, string value) => LoadBenchmark.Row(label, value);
}
