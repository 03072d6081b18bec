using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace SitMessenger.Bench.Load;

/// <summary>
/// The load benchmark: registers a few users, creates chats, then many closed-loop senders send as fast as the system
/// answers; prints throughput, latency percentiles, errors by status and the Api's memory.
/// </summary>
internal static class LoadBenchmark
{
    internal const int LabelWidth = 20;

    public static async Task<int> Main(string[] args)
    {
        BenchOptions options;
        try
        {
            options = BenchOptions.Parse(args);
        }
        catch (OptionsException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            await Console.Error.WriteLineAsync("Run with --help for the options.");
            return 2;
        }

        if (options.ShowHelp)
        {
            Console.WriteLine(BenchOptions.Usage);
            return 0;
        }

        using var interrupted = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // Stop sending and shut the system down cleanly rather than die with it running.
            Progress.Write($"{context.Signal}: stopping...");
            interrupted.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

        BenchTarget? target = null;
        try
        {
            target = options.Url is null
                ? await BenchTarget.StartOwnAsync(options.FlushDelay, interrupted.Token)
                : BenchTarget.External(options.Url, options.ApiPid, options.Database, options.ApiUrl);
            return options.Pipeline
                ? await PipelineBenchmark.RunAsync(options, target, interrupted.Token)
                : await RunAsync(options, target, interrupted.Token);
        }
        catch (SetupException ex)
        {
            await Console.Error.WriteLineAsync($"Setup failed: {ex.Message}");
            Console.WriteLine($"load benchmark: setup failed: {ex.Message}");
            return 1;
        }
        catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("Interrupted; no figures.");
            return 130;
        }
        finally
        {
            if (target is not null)
            {
                await target.DisposeAsync();
            }
        }
    }

    private static async Task<int> RunAsync(BenchOptions options, BenchTarget target, CancellationToken cancellationToken)
    {
        var connections = Math.Max(options.Senders, options.PrefillConcurrency) + 8;
        using var http = target.CreateClient(connections);

        // Setup: users (throttled: at most 8, two attempts each), then the chats.
        var setup = new SetupClient(http);
        Progress.Write($"Setup against {target.Gateway}: ping");
        await setup.PingAsync(cancellationToken);
        var runId = Guid.NewGuid().ToString("N")[..8];
        var users = new List<BenchUser>(options.Users);
        for (var i = 0; i < options.Users; i++)
        {
            users.Add(await setup.RegisterAndLoginAsync(i + 1, runId, cancellationToken));
        }

        Progress.Write($"Setup: registered and logged in {users.Count} users (loadbench-{runId}-*)");

        var message = Message(options.MessageSize);
        var plans = new List<RunPlan>();
        if (options.DurationSeconds > 0)
        {
            // Chat c belongs to user c % users (with the next user as the other owner); sender s sends into chat s % chats as its creator.
            var chats = new List<(string Id, BenchUser Creator)>(options.Chats);
            for (var c = 0; c < options.Chats; c++)
            {
                var creator = users[c % users.Count];
                var other = users[(c + 1) % users.Count];
                chats.Add((await setup.CreateChatAsync(creator, other, cancellationToken), creator));
                if (options.Chats >= 20 && (c + 1) % (options.Chats / 10) == 0)
                {
                    Progress.Write(string.Create(CultureInfo.InvariantCulture, $"Setup: {c + 1}/{options.Chats} chats"));
                }
            }

            Progress.Write(string.Create(CultureInfo.InvariantCulture, $"Setup: created {chats.Count} chats"));
            var seats = Enumerable.Range(0, options.Senders).Select(s => chats[s % chats.Count]).ToList();
            plans.AddRange(RunPlan.For(options, seats, message, target.ApiServers));
        }

        var summary = new StringBuilder();
        var ok = true;
        WriteHeader(options, target, users.Count, connections, plans);
        summary.Append(CultureInfo.InvariantCulture,
            $"load benchmark: {string.Join("+", options.Modes.Select(m => m.ToString().ToUpperInvariant()))}, {options.Senders} senders, {options.Chats} chats, {options.MessageSize} chars");

        var runs = new List<BenchRun>();
        foreach (var plan in plans)
        {
            var warmup = runs.Count == 0 ? options.WarmupSeconds : options.WarmupNextSeconds;
            var result = await Workloads.RunMainAsync(
                http, plan.Senders, TimeSpan.FromSeconds(warmup), TimeSpan.FromSeconds(options.DurationSeconds), plan.Label,
                target.Processes(), cancellationToken);
            var run = new BenchRun(plan, warmup, result);
            runs.Add(run);
            SideBySideReport.WriteRun(run);
            ok &= result.Latency.Count > 0;
        }

        if (runs.Count > 0)
        {
            SideBySideReport.WriteTable(runs, SkippedNote(options, target));
            summary.Append(SideBySideReport.Summary(runs));
        }

        if (options.Prefill > 0)
        {
            var (creator, other) = (users[0], users[1]);
            var bigChat = await setup.CreateChatAsync(creator, other, cancellationToken);
            var prefill = await Workloads.PrefillAsync(
                http, new SendRequest(SendMode.Post, bigChat, creator.AccessToken, message), options.Prefill, options.PrefillConcurrency, cancellationToken);
            var freshChat = await setup.CreateChatAsync(creator, other, cancellationToken);
            var comparison = await Workloads.CompareAsync(
                http,
                new SendRequest(options.Mode, bigChat, creator.AccessToken, message),
                new SendRequest(options.Mode, freshChat, creator.AccessToken, message),
                options.CompareSends,
                cancellationToken);
            WritePrefill(options, prefill, comparison);
            summary.Append(comparison.Prefilled.Count > 0 && comparison.Fresh.Count > 0
                ? string.Create(CultureInfo.InvariantCulture,
                    $"; at message {prefill.Succeeded:N0} vs 1: p50 {comparison.Prefilled.P50:0.00} vs {comparison.Fresh.P50:0.00} ms, p99 {comparison.Prefilled.P99:0.00} vs {comparison.Fresh.P99:0.00} ms")
                : string.Create(CultureInfo.InvariantCulture, $"; prefill comparison: no send succeeded ({comparison.Errors.Total:N0} errors)"));
            ok &= comparison.Prefilled.Count > 0 && comparison.Fresh.Count > 0;
        }

        var memory = target.ApiProcessId is int pid ? ProcessMemory.Read(pid) : null;
        if (memory is not null)
        {
            // Each run reset the peak at its window's start (to give the window's own); the peak of the whole benchmark
            // is the highest of what was read before each reset, at each window's end, and now.
            var api = runs.SelectMany(r => r.Result.Resources.Processes).Where(p => p.Name == "api" && p.ProcessId == memory.ProcessId).ToList();
            memory = memory with
            {
                PeakMiB = api.Select(p => p.PeakBeforeWindowMiB ?? 0).Concat(api.Select(p => p.Memory?.PeakMiB ?? 0)).Append(memory.PeakMiB).Max(),
            };
        }

        WriteMemory(target, memory);
        if (memory is not null)
        {
            summary.Append(CultureInfo.InvariantCulture, $"; Api peak {memory.PeakMiB:N1} MiB, RSS {memory.CurrentMiB:N1} MiB");
        }

        Console.WriteLine();
        Console.WriteLine(summary.ToString());
        if (!ok)
        {
            await Console.Error.WriteLineAsync("No send succeeded: the figures measure errors only (see above).");
        }

        return ok ? 0 : 1;
    }

    /// <summary>A message of exactly <paramref name="size"/> characters of ordinary text.</summary>
    internal static string Message(int size)
    {
        const string Text = "The quick brown fox jumps over the lazy dog; SIT Messenger load benchmark. ";
        var builder = new StringBuilder(size + Text.Length);
        while (builder.Length < size)
        {
            builder.Append(Text);
        }

        return builder.ToString(0, size);
    }

    private static void WriteHeader(BenchOptions options, BenchTarget target, int users, int connections, IReadOnlyList<RunPlan> plans)
    {
        Console.WriteLine("SIT Messenger load benchmark");
        Row("target", target.Description);
        Row("client", string.Create(CultureInfo.InvariantCulture,
            $"{Environment.ProcessorCount} CPUs, {RuntimeInformation.FrameworkDescription}, {connections} connections max"));
        if (plans.Count > 0)
        {
            Row("runs", string.Join(", ", plans.Select(p => p.Label)) + (plans.Count > 1 ? " (in this order, one system)" : ""));
            foreach (var plan in plans)
            {
                Row("", $"{plan.Label,-13}{plan.What}");
            }

            Row("senders", string.Create(CultureInfo.InvariantCulture,
                $"{options.Senders} closed-loop senders into {options.Chats} chats as {users} users, the same in every run"));
            Row("warmup, measured", plans.Count > 1
                ? string.Create(CultureInfo.InvariantCulture,
                    $"{options.WarmupSeconds} s before the first run, {options.WarmupNextSeconds} s before each next; {options.DurationSeconds} s each")
                : string.Create(CultureInfo.InvariantCulture, $"{options.WarmupSeconds} s, {options.DurationSeconds} s"));
        }

        Row("message size", string.Create(CultureInfo.InvariantCulture, $"{options.MessageSize} characters"));
    }

    /// <summary>Why the direct GET is missing, when it was asked for; null otherwise.</summary>
    private static string? SkippedNote(BenchOptions options, BenchTarget target) =>
        options.Modes.Contains(BenchMode.Get) && target.ApiServers.Count == 0
            ? "GET direct skipped: with --url the Api's own address is not known; pass --api-url to measure it."
            : null;

    private static void WritePrefill(BenchOptions options, PrefillResult prefill, ComparisonResult comparison)
    {
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Prefill: the same send latency at message {prefill.Succeeded:N0} as at message 1?"));
        Row("prefilled", string.Create(CultureInfo.InvariantCulture,
            $"{prefill.Succeeded:N0} of {options.Prefill:N0} messages in {prefill.Elapsed.TotalSeconds:0.0} s ({prefill.Succeeded / prefill.Elapsed.TotalSeconds:N0}/s, {options.PrefillConcurrency} concurrent posts)"));
        WriteErrors("prefill errors", prefill.Errors);
        Row("compared", string.Create(CultureInfo.InvariantCulture,
            $"{comparison.SendsEach:N0} sequential {options.Mode.ToString().ToUpperInvariant()} sends into each chat, interleaved"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {"chat",-LabelWidth}{"messages before",16}{"p50 ms",10}{"p99 ms",10}{"max ms",10}"));
        CompareRow("prefilled chat", prefill.Succeeded, comparison.Prefilled);
        CompareRow("fresh chat", 0, comparison.Fresh);
        Row("ratio", string.Create(CultureInfo.InvariantCulture,
            $"p50 {comparison.Prefilled.P50 / comparison.Fresh.P50:0.00}x, p99 {comparison.Prefilled.P99 / comparison.Fresh.P99:0.00}x (prefilled / fresh)"));
        if (comparison.Errors.Total > 0)
        {
            WriteErrors("compare errors", comparison.Errors);
        }

        static void CompareRow(string name, long before, LatencySummary latency) =>
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {name,-LabelWidth}{before,16:N0}{latency.P50,10:0.00}{latency.P99,10:0.00}{latency.Max,10:0.00}"));
    }

    internal static void WriteMemory(BenchTarget target, ProcessMemory? memory)
    {
        Console.WriteLine();
        Console.WriteLine("Api memory (at the end)");
        if (memory is not null)
        {
            Row("peak (VmHWM)", string.Create(CultureInfo.InvariantCulture, $"{memory.PeakMiB:N1} MiB (pid {memory.ProcessId})"));
            Row("current (VmRSS)", string.Create(CultureInfo.InvariantCulture, $"{memory.CurrentMiB:N1} MiB"));
        }
        else
        {
            Row("memory", target.ApiProcessId is int pid
                ? string.Create(CultureInfo.InvariantCulture, $"unknown: /proc/{pid}/status not readable")
                : "unknown (pass --api-pid with --url)");
        }
    }

    internal static void WriteErrors(string label, ErrorTally errors)
    {
        if (errors.Total == 0)
        {
            Row(label, "none");
            return;
        }

        Row(label, $"{Number(errors.Total)} in all");
        foreach (var (key, entry) in errors.Entries)
        {
            Row("", $"{Number(entry.Count),10}  {key}: {entry.FirstDetail}");
        }
    }

    internal static void Row(string label, string value) => Console.WriteLine($"  {label.PadRight(LabelWidth)}{value}");

    internal static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    internal static string Ms(double value) => double.IsNaN(value) ? "-" : string.Create(CultureInfo.InvariantCulture, $"{value,8:0.00} ms");
}
