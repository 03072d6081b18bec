using System.Diagnostics;
using System.Globalization;

namespace SitMessenger.Bench.Load;

internal sealed record MainRunResult(
    LatencySummary Latency, double MessagesPerSecond, long WarmupMessages, ErrorTally Errors, ErrorTally WarmupErrors, ResourceUsage Resources);

internal sealed record PrefillResult(long Sent, long Succeeded, TimeSpan Elapsed, ErrorTally Errors);

internal sealed record ComparisonResult(int SendsEach, LatencySummary Prefilled, LatencySummary Fresh, ErrorTally Errors);

internal static class Workloads
{
    /// <summary>
    /// Every sender loops for warmup + duration; only sends started in the last <paramref name="duration"/> count, and
    /// the <paramref name="processes"/>' CPU time and memory are read over that same window.
    /// </summary>
    public static async Task<MainRunResult> RunMainAsync(
        HttpClient http, IReadOnlyList<Sender> senders, TimeSpan warmup, TimeSpan duration, string label,
        IReadOnlyList<WatchedProcess> processes, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var measureFrom = start + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var stopAt = measureFrom + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        Progress.Write(string.Create(CultureInfo.InvariantCulture,
            $"{label}: {senders.Count} senders, {warmup.TotalSeconds:0} s warmup then {duration.TotalSeconds:0} s measured"));

        var resources = ServiceResources.MeasureAsync(processes, measureFrom, stopAt, cancellationToken);
        var runs = senders.Select(sender => Task.Run(() => sender.RunAsync(http, measureFrom, stopAt, cancellationToken), cancellationToken)).ToList();
        var all = Task.WhenAll(runs);
        using (var timer = new PeriodicTimer(TimeSpan.FromSeconds(1)))
        {
            long previous = 0;
            var lastMeasuredReport = measureFrom;
            while (!all.IsCompleted && await WaitTickAsync(timer, all))
            {
                var now = Stopwatch.GetTimestamp();
                var done = senders.Sum(s => s.Succeeded);
                var failed = senders.Sum(s => s.Failed);
                var line = string.Create(CultureInfo.InvariantCulture, $"{done:N0} done ({done - previous:N0}/s), {failed:N0} errors");
                previous = done;
                if (now < measureFrom)
                {
                    Progress.Write(string.Create(CultureInfo.InvariantCulture,
                        $"{label} warmup    {Stopwatch.GetElapsedTime(start, now).TotalSeconds,3:0}/{warmup.TotalSeconds:0} s: {line}"));
                }
                else if (now < stopAt && Stopwatch.GetElapsedTime(lastMeasuredReport, now) >= TimeSpan.FromSeconds(4.5))
                {
                    lastMeasuredReport = now;
                    Progress.Write(string.Create(CultureInfo.InvariantCulture,
                        $"{label} measuring {Stopwatch.GetElapsedTime(measureFrom, now).TotalSeconds,3:0}/{duration.TotalSeconds:0} s: {line}"));
                }
            }
        }

        await all;
        var usage = await resources;
        cancellationToken.ThrowIfCancellationRequested();
        Progress.Write($"{label}: done.");

        var errors = new ErrorTally();
        var warmupErrors = new ErrorTally();
        foreach (var sender in senders)
        {
            errors.Merge(sender.MeasuredErrors);
            warmupErrors.Merge(sender.WarmupErrors);
        }

        var latency = LatencySummary.From(senders.Select(s => s.Latencies));
        var perSecond = duration > TimeSpan.Zero ? latency.Count / duration.TotalSeconds : 0;
        return new MainRunResult(latency, perSecond, senders.Sum(s => s.WarmupSucceeded), errors, warmupErrors, usage);
    }

    /// <summary>Sends <paramref name="count"/> messages into one chat with <paramref name="concurrency"/> concurrent posts; progress every 10 % (unless quiet).</summary>
    public static async Task<PrefillResult> PrefillAsync(
        HttpClient http, SendRequest post, int count, int concurrency, CancellationToken cancellationToken, string label = "prefill", bool quiet = false)
    {
        Progress.Write(string.Create(CultureInfo.InvariantCulture, $"{char.ToUpperInvariant(label[0])}{label[1..]}: {count:N0} messages into one chat, {concurrency} concurrent posts"));
        var start = Stopwatch.GetTimestamp();
        var step = Math.Max(1, count / 10);
        long next = 0;
        long done = 0;
        long succeeded = 0;
        long failed = 0;

        async Task<ErrorTally> WorkerAsync()
        {
            var errors = new ErrorTally();
            while (Interlocked.Increment(ref next) <= count)
            {
                var outcome = await Sender.SendOnceAsync(post, http, cancellationToken);
                if (outcome is null)
                {
                    break;
                }

                if (outcome.Value.Succeeded)
                {
                    Interlocked.Increment(ref succeeded);
                }
                else
                {
                    Interlocked.Increment(ref failed);
                    errors.Add(outcome.Value.Key, outcome.Value.Body ?? "");
                }

                var finished = Interlocked.Increment(ref done);
                if (!quiet && (finished % step == 0 || finished == count))
                {
                    var elapsed = Stopwatch.GetElapsedTime(start);
                    Progress.Write(string.Create(CultureInfo.InvariantCulture,
                        $"{label} {finished * 100 / count,3}%: {finished:N0}/{count:N0} in {elapsed.TotalSeconds:0.0} s ({finished / elapsed.TotalSeconds:N0}/s), {Interlocked.Read(ref failed):N0} errors"));
                }
            }

            return errors;
        }

        var workers = Enumerable.Range(0, Math.Min(concurrency, count)).Select(_ => Task.Run(WorkerAsync, cancellationToken)).ToList();
        var tallies = await Task.WhenAll(workers);
        cancellationToken.ThrowIfCancellationRequested();
        var total = new ErrorTally();
        foreach (var tally in tallies)
        {
            total.Merge(tally);
        }

        return new PrefillResult(Interlocked.Read(ref done), Interlocked.Read(ref succeeded), Stopwatch.GetElapsedTime(start), total);
    }

    /// <summary>
    /// The same number of sequential sends into the prefilled chat and into a fresh one, interleaved (one here, one there)
    /// so both see the same background (the Worker still flushing the prefill, GCs) and only the chat's size differs.
    /// </summary>
    public static async Task<ComparisonResult> CompareAsync(
        HttpClient http, SendRequest prefilled, SendRequest fresh, int sends, CancellationToken cancellationToken)
    {
        Progress.Write(string.Create(CultureInfo.InvariantCulture, $"Comparing: {sends:N0} sequential sends into each chat, interleaved"));
        var prefilledLatencies = new List<double>(sends);
        var freshLatencies = new List<double>(sends);
        var errors = new ErrorTally();
        var step = Math.Max(1, sends / 5);
        for (var i = 1; i <= sends; i++)
        {
            await TimeOneAsync(prefilled, prefilledLatencies, "prefilled chat");
            await TimeOneAsync(fresh, freshLatencies, "fresh chat");
            if (i % step == 0)
            {
                Progress.Write(string.Create(CultureInfo.InvariantCulture, $"compare {i:N0}/{sends:N0}"));
            }
        }

        return new ComparisonResult(sends, LatencySummary.From([prefilledLatencies]), LatencySummary.From([freshLatencies]), errors);

        async Task TimeOneAsync(SendRequest request, List<double> latencies, string chat)
        {
            var started = Stopwatch.GetTimestamp();
            var outcome = await Sender.SendOnceAsync(request, http, cancellationToken);
            var ended = Stopwatch.GetTimestamp();
            cancellationToken.ThrowIfCancellationRequested();
            if (outcome!.Value.Succeeded)
            {
                latencies.Add(Stopwatch.GetElapsedTime(started, ended).TotalMilliseconds);
            }
            else
            {
                errors.Add($"{chat}: {outcome.Value.Key}", outcome.Value.Body ?? "");
            }
        }
    }

    /// <summary>Waits for the next tick, or less if the work finishes first; false once it has.</summary>
    private static async Task<bool> WaitTickAsync(PeriodicTimer timer, Task work)
    {
        var tick = timer.WaitForNextTickAsync().AsTask();
        var first = await Task.WhenAny(tick, work);
        return first == tick;
    }
}
