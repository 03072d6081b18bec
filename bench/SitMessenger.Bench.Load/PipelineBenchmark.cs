using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace SitMessenger.Bench.Load;

/// <summary>
/// --pipeline: the background half of the message path (pending rows → Worker → segment files). 1. how fast a backlog
/// is moved into segments, 2. how long a message takes from its send to its segment at a steady rate, 3. whether
/// reading the end of a chat costs the same at 100 and at 100,000 messages once they are all in segments.
/// </summary>
internal static class PipelineBenchmark
{
    /// <summary>Messages in phase 3's short chat (besides its first line, "Beginning of messages").</summary>
    private const int ShortChatMessages = 100;

    private static readonly TimeSpan MinimumBudget = TimeSpan.FromMinutes(2);

    public static async Task<int> RunAsync(BenchOptions options, BenchTarget target, CancellationToken cancellationToken)
    {
        var database = target.Database ?? throw new SetupException("--pipeline needs the database (--database with --url).");
        await using var probe = new FlushProbe(database);
        var connections = Math.Max(options.PrefillConcurrency, options.MaxInFlight) + 8;
        using var http = target.CreateClient(connections);

        // Setup: users (throttled: at most 8, two attempts each), every chat of every phase, then wait until their first
        // lines ("Beginning of messages", pending from creation) are in segments, so each phase starts from a quiet system.
        var setup = new SetupClient(http);
        Progress.Write($"Setup against {target.Gateway}: ping");
        await setup.PingAsync(cancellationToken);
        try
        {
            await probe.PendingAsync([], cancellationToken);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or InvalidOperationException or ArgumentException)
        {
            throw new SetupException($"PostgreSQL is not reachable with the connection string given: {ex.Message}");
        }

        var runId = Guid.NewGuid().ToString("N")[..8];
        var users = new List<BenchUser>(options.Users);
        for (var i = 0; i < options.Users; i++)
        {
            users.Add(await setup.RegisterAndLoginAsync(i + 1, runId, cancellationToken));
        }

        Progress.Write($"Setup: registered and logged in {users.Count} users (loadbench-{runId}-*)");
        var message = LoadBenchmark.Message(options.MessageSize);

        async Task<PipelineChat> ChatAsync(BenchUser creator, BenchUser other)
        {
            var id = await setup.CreateChatAsync(creator, other, cancellationToken);
            if (!Guid.TryParse(id, out var key))
            {
                throw new SetupException($"POST /api/v1/chat/ answered a chat id that is not a UUID: {id}");
            }

            return new PipelineChat(id, key, creator, new SendRequest(SendMode.Post, id, creator.AccessToken, message));
        }

        var flushChat = options.PipelineMessages > 0 ? await ChatAsync(users[0], users[1]) : null;
        var steadyChats = new List<PipelineChat>();
        if (options.DurationSeconds > 0)
        {
            for (var c = 0; c < options.Chats; c++)
            {
                steadyChats.Add(await ChatAsync(users[c % users.Count], users[(c + 1) % users.Count]));
            }
        }

        var shortChat = options.BigChat > 0 ? await ChatAsync(users[0], users[1]) : null;
        var longChat = options.BigChat > 0 ? await ChatAsync(users[0], users[1]) : null;
        var all = new[] { flushChat, shortChat, longChat }.OfType<PipelineChat>().Concat(steadyChats).Select(c => c.Key).ToList();
        Progress.Write(string.Create(CultureInfo.InvariantCulture, $"Setup: created {all.Count} chats; waiting until their first lines are in segments"));
        var delay = target.FlushDelay;
        var budget = delay is TimeSpan known ? MinimumBudget + (4 * known) : TimeSpan.FromMinutes(5);
        var (quiet, _, left) = await probe.WaitForNoPendingAsync(all, "setup", budget, cancellationToken);
        if (!quiet)
        {
            throw new SetupException(string.Create(CultureInfo.InvariantCulture,
                $"the new chats' first lines were not flushed within {budget.TotalSeconds:0} s ({left:N0} still pending): is the Worker running?"));
        }

        WriteHeader(options, target, users.Count, connections);
        var summary = new StringBuilder("pipeline benchmark: flush delay ");
        summary.Append(delay is TimeSpan d ? Seconds(d.TotalSeconds) : "unknown");
        var ok = true;

        if (flushChat is not null)
        {
            var result = await PipelineWorkloads.FlushThroughputAsync(
                http, probe, flushChat, options.PipelineMessages, options.PrefillConcurrency, budget + TimeSpan.FromMinutes(10), cancellationToken);
            WriteFlushThroughput(options, result);
            var afterEnd = result.AtSendEnd;
            summary.Append(CultureInfo.InvariantCulture,
                $"; flush of {result.Prefill.Succeeded:N0}: {Rate(result.MovedTotal, result.BeforeFirstSegment?.At ?? 0, result.Final.At)} msg/s overall, {Rate(afterEnd.Segmented - result.Baseline.Segmented, result.BeforeFirstSegment?.At ?? 0, afterEnd.At)} during sending, {Rate(result.Final.Segmented - afterEnd.Segmented, afterEnd.At, result.Final.At)} after, largest burst {(result.LargestBurst is { Seconds: > 0 } burst ? (burst.Moved / burst.Seconds).ToString("N0", CultureInfo.InvariantCulture) : "-")}, ");
            summary.Append(result.Drained
                ? string.Create(CultureInfo.InvariantCulture, $"drained {FlushThroughputResult.Seconds(result.SendEnd, result.Final.At):0.0} s after the last send")
                : "NOT drained");
            ok &= result.Drained && result.Prefill.Succeeded > 0;
        }

        if (steadyChats.Count > 0)
        {
            var result = await PipelineWorkloads.SteadyRateAsync(
                http, probe, steadyChats, options.Rate, TimeSpan.FromSeconds(options.DurationSeconds), options.MaxInFlight, budget + TimeSpan.FromMinutes(3), cancellationToken);
            WriteSteadyRate(result);
            var e = result.EndToEnd;
            var s = result.SendLatency;
            summary.Append(CultureInfo.InvariantCulture,
                $"; end-to-end at {result.AchievedPerSecond:N0}/s (of {result.Rate:N0}/s): p50 {Seconds(e.P50 / 1000)}, p95 {Seconds(e.P95 / 1000)}, p99 {Seconds(e.P99 / 1000)}, max {Seconds(e.Max / 1000)}; sends p50 {s.P50:0.00} ms, p99 {s.P99:0.00} ms");
            ok &= e.Count > 0 && result.NotFlushed == 0;
        }

        if (shortChat is not null && longChat is not null)
        {
            var result = await PipelineWorkloads.ReadCostAsync(
                http, probe, shortChat, ShortChatMessages, longChat, options.BigChat, options.PrefillConcurrency, options.Reads,
                budget + TimeSpan.FromMinutes(15), cancellationToken);
            WriteReadCost(result);
            summary.Append(CultureInfo.InvariantCulture,
                $"; reads at {result.ShortMessages:N0} vs {result.LongMessages:N0} messages: messages/?limit=50 p50 {result.History.Short.P50:0.00} vs {result.History.Long.P50:0.00} ms, p99 {result.History.Short.P99:0.00} vs {result.History.Long.P99:0.00} ms; chat p50 {result.Detail.Short.P50:0.00} vs {result.Detail.Long.P50:0.00} ms, p99 {result.Detail.Short.P99:0.00} vs {result.Detail.Long.P99:0.00} ms");
            ok &= result.Flushed && result.History.Short.Count > 0 && result.History.Long.Count > 0 && result.Detail.Short.Count > 0 && result.Detail.Long.Count > 0;
        }

        var memory = target.ApiProcessId is int pid ? ProcessMemory.Read(pid) : null;
        LoadBenchmark.WriteMemory(target, memory);
        if (memory is not null)
        {
            summary.Append(CultureInfo.InvariantCulture, $"; Api peak {memory.PeakMiB:N1} MiB");
        }

        Console.WriteLine();
        Console.WriteLine(summary.ToString());
        if (!ok)
        {
            await Console.Error.WriteLineAsync("Some pipeline figure is missing or incomplete (nothing sent, not drained, or no read succeeded): see above.");
        }

        return ok ? 0 : 1;
    }

    private static void WriteHeader(BenchOptions options, BenchTarget target, int users, int connections)
    {
        Console.WriteLine("SIT Messenger load benchmark: the background pipeline (pending rows -> Worker -> segment files)");
        Row("target", target.Description);
        Row("client", string.Create(CultureInfo.InvariantCulture,
            $"{Environment.ProcessorCount} CPUs, {RuntimeInformation.FrameworkDescription}, {connections} connections max"));
        Row("flush delay", target.FlushDelay is TimeSpan delay
            ? Seconds(delay.TotalSeconds) + (options.FlushDelay is null ? " (the AppHost's default)" : " (--flush-delay)")
            : "the running system's own (not known here)");
        Row("sends", string.Create(CultureInfo.InvariantCulture,
            $"POST /api/v1/chat/{{id}}/messages/, {options.MessageSize} characters, as {users} users"));
        Row("samples", "pending rows and segments every 200 ms (1), flushed marks every 100 ms (2), from PostgreSQL");
    }

    private static void WriteFlushThroughput(BenchOptions options, FlushThroughputResult r)
    {
        var p = r.Prefill;
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"1. Flush throughput: {options.PipelineMessages:N0} messages sent into one chat as fast as it goes, moved into segments meanwhile and after"));
        Row("sent", string.Create(CultureInfo.InvariantCulture,
            $"{p.Succeeded:N0} of {options.PipelineMessages:N0} in {p.Elapsed.TotalSeconds:0.0} s ({p.Succeeded / p.Elapsed.TotalSeconds:N0}/s, {options.PrefillConcurrency} concurrent posts)"));
        LoadBenchmark.WriteErrors("send errors", p.Errors);
        var first = r.FirstSegment;
        Row("first segment", first is { } f
            ? string.Create(CultureInfo.InvariantCulture, $"seen {FlushThroughputResult.Seconds(r.SendStart, f.At):0.0} s after the first send")
            : "none seen");
        Row("pending at most", LoadBenchmark.Number(r.MaxPending));

        var from = r.BeforeFirstSegment?.At;
        var atEnd = r.AtSendEnd;
        var duringMoved = atEnd.Segmented - r.Baseline.Segmented;
        var afterMoved = r.Final.Segmented - atEnd.Segmented;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {"",-LoadBenchmark.LabelWidth}{"moved",10}{"seconds",10}{"msgs/s",10}   window"));
        Window("during sending", duringMoved, from is long a && a < atEnd.At ? FlushThroughputResult.Seconds(a, atEnd.At) : double.NaN,
            "from the last sample before the first segment to the last sample while sending");
        Window("after sending", afterMoved, FlushThroughputResult.Seconds(atEnd.At, r.Final.At),
            r.Drained ? "from that sample to the first with nothing pending" : "from that sample to the last one (NOT drained)");
        Window("overall", r.MovedTotal, from is long o ? FlushThroughputResult.Seconds(o, r.Final.At) : double.NaN, "first segment to drained");
        Window("largest burst", r.LargestBurst?.Moved ?? 0, r.LargestBurst?.Seconds ?? double.NaN,
            "consecutive samples with segments growing, from the sample before: the Worker's speed with a backlog (lower bound)");
        Row("peak (1 s window)", string.Create(CultureInfo.InvariantCulture, $"{r.PeakPerSecond:N0} msgs/s (most moved between two samples at least 1 s apart, per second)"));
        Row("time to drain", r.Drained
            ? string.Create(CultureInfo.InvariantCulture,
                $"{FlushThroughputResult.Seconds(r.SendEnd, r.Final.At):0.0} s after the last send, {FlushThroughputResult.Seconds(r.SendStart, r.Final.At):0.0} s after the first")
            : string.Create(CultureInfo.InvariantCulture, $"NOT drained: {r.Final.Pending:N0} still pending {FlushThroughputResult.Seconds(r.SendEnd, r.Final.At):0} s after the last send"));
        Row("in segments", string.Create(CultureInfo.InvariantCulture,
            $"{r.MovedTotal:N0} of the {p.Succeeded:N0} acknowledged ({r.Samples.Count} samples, 200 ms apart: times are within ~0.2 s)"));

        static void Window(string label, long moved, double seconds, string what)
        {
            var rate = seconds > 0 ? moved / seconds : double.NaN;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {label,-LoadBenchmark.LabelWidth}{moved,10:N0}{(double.IsNaN(seconds) ? "-" : seconds.ToString("0.00", CultureInfo.InvariantCulture)),10}{(double.IsNaN(rate) ? "-" : rate.ToString("N0", CultureInfo.InvariantCulture)),10}   {what}"));
        }
    }

    private static void WriteSteadyRate(SteadyRateResult r)
    {
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"2. End-to-end at a steady rate: {r.Rate:N0} messages/s offered for {r.Duration.TotalSeconds:0} s into {r.Chats} chats (open loop), send to segment"));
        Row("offered", string.Create(CultureInfo.InvariantCulture,
            $"{r.Scheduled:N0} messages due; {r.Dispatched:N0} started within the {r.Duration.TotalSeconds:0} s (at most {r.MaxInFlight} in flight; latest start {r.MaxLagMs:0.0} ms behind schedule)"));
        Row("achieved", string.Create(CultureInfo.InvariantCulture,
            $"{r.Acknowledged:N0} acknowledged = {r.AchievedPerSecond:N1} messages/s{(r.AchievedPerSecond < r.Rate * 0.99 ? " (BELOW the offered rate: the system did not keep up)" : "")}"));
        LoadBenchmark.WriteErrors("send errors", r.Errors);
        var s = r.SendLatency;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {"",-LoadBenchmark.LabelWidth}{"p50",11}{"p95",11}{"p99",11}{"max",11}{"mean",11}"));
        var e = r.EndToEnd;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {"end-to-end",-LoadBenchmark.LabelWidth}{Seconds(e.P50 / 1000),11}{Seconds(e.P95 / 1000),11}{Seconds(e.P99 / 1000),11}{Seconds(e.Max / 1000),11}{Seconds(e.Mean / 1000),11}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {"send latency",-LoadBenchmark.LabelWidth}{Milliseconds(s.P50),11}{Milliseconds(s.P95),11}{Milliseconds(s.P99),11}{Milliseconds(s.Max),11}{Milliseconds(s.Mean),11}"));
        Row("end-to-end is", "first flushed-mark sample with flushed_seq >= the message's seq, minus the start of its send");
        Row("samples", string.Create(CultureInfo.InvariantCulture,
            $"{r.Samples:N0}, every {r.SampleIntervalMs:0} ms on average (end-to-end times are late by up to that)"));
        Row("all flushed", r.AllFlushedAfterSending >= TimeSpan.Zero
            ? string.Create(CultureInfo.InvariantCulture, $"{r.AllFlushedAfterSending.TotalSeconds:0.0} s after the last answer")
            : string.Create(CultureInfo.InvariantCulture, $"NO: {r.NotFlushed:N0} acknowledged messages never reached a segment while sampled"));
    }

    private static void WriteReadCost(ReadCostResult r)
    {
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"3. Read cost vs chat length: chats of {r.ShortMessages:N0} and {r.LongMessages:N0} messages, all in segments; {r.Reads:N0} sequential reads of each, interleaved"));
        Row("filled", string.Create(CultureInfo.InvariantCulture,
            $"{r.ShortFill.Succeeded:N0} in {r.ShortFill.Elapsed.TotalSeconds:0.0} s; {r.LongFill.Succeeded:N0} in {r.LongFill.Elapsed.TotalSeconds:0.0} s ({r.LongFill.Succeeded / r.LongFill.Elapsed.TotalSeconds:N0}/s)"));
        var fillErrors = new ErrorTally();
        fillErrors.Merge(r.ShortFill.Errors);
        fillErrors.Merge(r.LongFill.Errors);
        LoadBenchmark.WriteErrors("fill errors", fillErrors);
        Row("in segments", r.Flushed
            ? string.Create(CultureInfo.InvariantCulture, $"all, {r.FlushWait.TotalSeconds:0.0} s after the fills (no pending rows left in either chat)")
            : string.Create(CultureInfo.InvariantCulture, $"NOT all: {r.StillPending:N0} still pending after {r.FlushWait.TotalSeconds:0} s (reads done anyway)"));
        Row("warm-up", string.Create(CultureInfo.InvariantCulture, $"{r.WarmupReads} unmeasured reads of each chat before each request kind"));
        var shortHead = string.Create(CultureInfo.InvariantCulture, $"{r.ShortMessages:N0} messages");
        var longHead = string.Create(CultureInfo.InvariantCulture, $"{r.LongMessages:N0} messages");
        Console.WriteLine();
        Console.WriteLine($"  {"",-44}{shortHead,22}  {longHead,22}  {"long / short",14}");
        Console.WriteLine($"  {"request",-44}{"p50 ms",11}{"p99 ms",11}  {"p50 ms",11}{"p99 ms",11}  {"p50",7}{"p99",7}");
        Line(r.History);
        Line(r.Detail);
        Row("answer sizes", string.Create(CultureInfo.InvariantCulture,
            $"messages/?limit=50 {r.History.ShortBytes:N0} / {r.History.LongBytes:N0} bytes; chat {r.Detail.ShortBytes:N0} / {r.Detail.LongBytes:N0} bytes (short / long)"));
        Row("served pending", string.Create(CultureInfo.InvariantCulture,
            $"{r.Detail.ShortPendingServed} / {r.Detail.LongPendingServed} of the chat answers' 100 messages came from cache_messages (0 = all from segments)"));
        LoadBenchmark.WriteErrors("read errors", r.Errors);

        static void Line(ReadComparison c) =>
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {c.Request,-44}{c.Short.P50,11:0.00}{c.Short.P99,11:0.00}  {c.Long.P50,11:0.00}{c.Long.P99,11:0.00}  {c.Long.P50 / c.Short.P50,6:0.00}x{c.Long.P99 / c.Short.P99,6:0.00}x"));
    }

    private static string Rate(long moved, long from, long to)
    {
        var seconds = from > 0 ? FlushThroughputResult.Seconds(from, to) : double.NaN;
        return seconds > 0 ? (moved / seconds).ToString("N0", CultureInfo.InvariantCulture) : "-";
    }

    private static string Seconds(double seconds) =>
        double.IsNaN(seconds) ? "-" : string.Create(CultureInfo.InvariantCulture, $"{seconds:0.00} s");

    private static string Milliseconds(double ms) =>
        double.IsNaN(ms) ? "-" : string.Create(CultureInfo.InvariantCulture, $"{ms:0.00} ms");

    private static void Row(string label, string value) => LoadBenchmark.Row(label, value);
}
