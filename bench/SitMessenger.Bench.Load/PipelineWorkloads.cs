using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace SitMessenger.Bench.Load;

/// <summary>One sample of a chat's flush progress: pending rows and messages in segments at a moment (a Stopwatch timestamp).</summary>
internal readonly record struct FlushSample(long At, long Pending, long Segmented);

/// <summary>Phase 1: a chat prefilled as fast as it goes, its pending rows and segments sampled until nothing is pending.</summary>
internal sealed record FlushThroughputResult(
    PrefillResult Prefill, long SendStart, long SendEnd, FlushSample Baseline, IReadOnlyList<FlushSample> Samples, bool Drained)
{
    /// <summary>The first sample after sending stopped with nothing pending (or the last sample when it never came).</summary>
    public FlushSample Final => Samples[^1];

    public long MovedTotal => Final.Segmented - Baseline.Segmented;

    public long MaxPending => Samples.Count == 0 ? 0 : Samples.Max(s => s.Pending);

    /// <summary>The last sample taken while sending (the baseline if none was).</summary>
    public FlushSample AtSendEnd => Samples.LastOrDefault(s => s.At <= SendEnd) is { At: > 0 } sample ? sample : Baseline;

    /// <summary>The last sample before the first segment appeared: the flushing starts after it. Null when nothing moved.</summary>
    public FlushSample? BeforeFirstSegment
    {
        get
        {
            var previous = Baseline;
            foreach (var sample in Samples)
            {
                if (sample.Segmented > Baseline.Segmented)
                {
                    return previous;
                }

                previous = sample;
            }

            return null;
        }
    }

    /// <summary>The first sample in which a segment of this prefill shows.</summary>
    public FlushSample? FirstSegment => Samples.FirstOrDefault(s => s.Segmented > Baseline.Segmented) is { At: > 0 } sample ? sample : null;

    /// <summary>The most messages moved in any window of at least one second between two samples, per second.</summary>
    public double PeakPerSecond
    {
        get
        {
            var best = 0.0;
            var j = 0;
            for (var i = 0; i < Samples.Count; i++)
            {
                while (j < Samples.Count && Seconds(Samples[i].At, Samples[j].At) < 1.0)
                {
                    j++;
                }

                if (j == Samples.Count)
                {
                    break;
                }

                best = Math.Max(best, (Samples[j].Segmented - Samples[i].Segmented) / Seconds(Samples[i].At, Samples[j].At));
            }

            return best;
        }
    }

    /// <summary>
    /// The run of consecutive samples in which segments grew that moved the most: the messages, and the time from the sample
    /// before it to its last sample. With a backlog this is the Worker's own speed (a lower bound: the window is widened by
    /// up to two sample intervals); null when nothing moved.
    /// </summary>
    public (long Moved, double Seconds)? LargestBurst
    {
        get
        {
            (long Moved, double Seconds)? best = null;
            var previous = Baseline;
            FlushSample? burstStart = null;
            foreach (var sample in Samples)
            {
                if (sample.Segmented > previous.Segmented)
                {
                    burstStart ??= previous;
                    var moved = sample.Segmented - burstStart.Value.Segmented;
                    if (best is null || moved > best.Value.Moved)
                    {
                        best = (moved, Seconds(burstStart.Value.At, sample.At));
                    }
                }
                else
                {
                    burstStart = null;
                }

                previous = sample;
            }

            return best;
        }
    }

    public static double Seconds(long from, long to) => (to - from) / (double)Stopwatch.Frequency;
}

/// <summary>Phase 2: an open-loop sender at a fixed rate; each message's time from send to its chat's flushed mark passing it.</summary>
internal sealed record SteadyRateResult(
    int Rate,
    int Chats,
    TimeSpan Duration,
    long Scheduled,
    long Dispatched,
    long Acknowledged,
    ErrorTally Errors,
    LatencySummary SendLatency,
    double MaxLagMs,
    int MaxInFlight,
    LatencySummary EndToEnd,
    long NotFlushed,
    TimeSpan AllFlushedAfterSending,
    int Samples,
    double SampleIntervalMs)
{
    public double AchievedPerSecond => Acknowledged / Duration.TotalSeconds;
}

/// <summary>Phase 3, one request kind: the latency of the same read on the short and the long chat.</summary>
internal sealed record ReadComparison(string Request, int Expected, LatencySummary Short, LatencySummary Long, long ShortBytes, long LongBytes, long ShortPendingServed, long LongPendingServed);

internal sealed record ReadCostResult(
    int ShortMessages, int LongMessages, PrefillResult ShortFill, PrefillResult LongFill, TimeSpan FlushWait, bool Flushed, long StillPending,
    int Reads, int WarmupReads, ReadComparison History, ReadComparison Detail, ErrorTally Errors);

/// <summary>A chat of the pipeline run: its id as the Api gives it, as a Guid for PostgreSQL, and the POST into it.</summary>
internal sealed record PipelineChat(string Id, Guid Key, BenchUser Creator, SendRequest Post);

internal static class PipelineWorkloads
{
    private static readonly TimeSpan FlushSampleInterval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MarkSampleInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Phase 1: prefills one chat with <paramref name="count"/> messages as fast as it goes while sampling its pending rows
    /// and its segments every 200 ms, and keeps sampling after the last send until nothing is pending.
    /// </summary>
    public static async Task<FlushThroughputResult> FlushThroughputAsync(
        HttpClient http, FlushProbe probe, PipelineChat chat, int count, int concurrency, TimeSpan drainBudget, CancellationToken cancellationToken)
    {
        var (baseAt, basePending, baseSegmented) = await probe.CountsAsync(chat.Key, cancellationToken);
        var baseline = new FlushSample(baseAt, basePending, baseSegmented);
        var samples = new List<FlushSample>();
        var sendingStopped = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stopSampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        var sendStart = Stopwatch.GetTimestamp();
        var sampler = Task.Run(SampleAsync, cancellationToken);
        PrefillResult prefill;
        try
        {
            prefill = await Workloads.PrefillAsync(http, chat.Post, count, concurrency, cancellationToken, label: "flush prefill");
        }
        catch
        {
            await stopSampling.CancelAsync();
            throw;
        }

        var sendEnd = Stopwatch.GetTimestamp();
        sendingStopped.SetResult(sendEnd);
        Progress.Write("Sending stopped; sampling until nothing is pending...");
        var drained = await sampler;
        cancellationToken.ThrowIfCancellationRequested();
        return new FlushThroughputResult(prefill, sendStart, sendEnd, baseline, samples, drained);

        async Task<bool> SampleAsync()
        {
            using var timer = new PeriodicTimer(FlushSampleInterval);
            var lastReport = Stopwatch.GetTimestamp();
            try
            {
                while (true)
                {
                    var stoppedAt = sendingStopped.Task.IsCompleted ? sendingStopped.Task.Result : (long?)null;
                    var (at, pending, segmented) = await probe.CountsAsync(chat.Key, stopSampling.Token);
                    samples.Add(new FlushSample(at, pending, segmented));
                    if (stoppedAt is long stopped)
                    {
                        if (pending == 0)
                        {
                            return true;
                        }

                        if (Stopwatch.GetElapsedTime(stopped) > drainBudget)
                        {
                            return false;
                        }
                    }

                    if (Stopwatch.GetElapsedTime(lastReport) >= TimeSpan.FromSeconds(1))
                    {
                        lastReport = Stopwatch.GetTimestamp();
                        Progress.Write(FormattableString.Invariant($"flush: {pending:N0} pending, {segmented - baseSegmented:N0} moved into segments"));
                    }

                    await timer.WaitForNextTickAsync(stopSampling.Token);
                }
            }
            catch (OperationCanceledException) when (stopSampling.IsCancellationRequested)
            {
                return false;
            }
        }
    }

    /// <summary>
    /// Phase 2: sends <paramref name="rate"/> messages a second for <paramref name="duration"/>, message k due at
    /// start + k / rate whatever the answers (open loop), round-robin over the chats; samples the chats' flushed marks
    /// every 100 ms until every acknowledged message is flushed. At most <paramref name="maxInFlight"/> sends are in flight:
    /// past it, sends start late (reported as lag) and those not started by the end are not sent. A message's end-to-end time is the first sample at
    /// which its chat's flushed mark reached its seq, minus the moment its send started.
    /// </summary>
    public static async Task<SteadyRateResult> SteadyRateAsync(
        HttpClient http, FlushProbe probe, IReadOnlyList<PipelineChat> chats, int rate, TimeSpan duration, int maxInFlight, TimeSpan flushBudget,
        CancellationToken cancellationToken)
    {
        var frequency = (double)Stopwatch.Frequency;
        var scheduled = (long)Math.Round(rate * duration.TotalSeconds);
        var sent = chats.Select(_ => new List<(long Seq, long Started)>()).ToArray();
        var latencies = new List<double>((int)Math.Min(scheduled, 10_000_000));
        var errors = new ErrorTally();
        var gate = new Lock();
        var inFlight = 0;
        long acknowledged = 0;
        var keys = chats.Select(c => c.Key).ToArray();
        var marks = new List<(long At, long[] Flushed)>();
        var lastSeqs = new TaskCompletionSource<(long At, long[] Seqs)>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stopSampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        Progress.Write(FormattableString.Invariant(
            $"Steady rate: {rate:N0} messages/s for {duration.TotalSeconds:0} s into {chats.Count} chats (open loop, at most {maxInFlight} in flight)"));
        var start = Stopwatch.GetTimestamp();
        var sampler = Task.Run(SampleMarksAsync, cancellationToken);
        var end = start + (long)(duration.TotalSeconds * frequency);
        var sends = new List<Task>((int)Math.Min(scheduled, 10_000_000));
        long k = 0;
        var maxLag = 0.0;
        var lastReport = start;
        long reportedAcknowledged = 0;
        try
        {
            while (k < scheduled)
            {
                var now = Stopwatch.GetTimestamp();
                // Every message is due before the end: at the end, start those this loop has not reached yet (late, if
                // the in-flight limit allows); whatever is still not out was not sent, and the achieved rate says so.
                var over = now >= end;
                var due = over ? scheduled : Math.Min(scheduled, (long)((now - start) * rate / frequency) + 1);
                while (k < due && Volatile.Read(ref inFlight) < maxInFlight)
                {
                    var dueAt = start + (long)(k * frequency / rate);
                    maxLag = Math.Max(maxLag, (now - dueAt) * 1000.0 / frequency);
                    Interlocked.Increment(ref inFlight);
                    var chat = (int)(k % chats.Count);
                    sends.Add(Task.Run(() => SendOneAsync(chat), cancellationToken));
                    k++;
                }

                if (over)
                {
                    break;
                }

                if (Stopwatch.GetElapsedTime(lastReport) >= TimeSpan.FromSeconds(5))
                {
                    lastReport = Stopwatch.GetTimestamp();
                    var done = Interlocked.Read(ref acknowledged);
                    Progress.Write(FormattableString.Invariant(
                        $"steady {Stopwatch.GetElapsedTime(start).TotalSeconds,3:0}/{duration.TotalSeconds:0} s: {done:N0} acknowledged ({(done - reportedAcknowledged) / 5.0:N0}/s), {Volatile.Read(ref inFlight)} in flight, {errors.Total:N0} errors"));
                    reportedAcknowledged = done;
                }

                await Task.Delay(1, cancellationToken);
            }

            await Task.WhenAll(sends);
        }
        catch
        {
            await stopSampling.CancelAsync();
            throw;
        }

        var sendingDone = Stopwatch.GetTimestamp();
        var lastSeq = sent.Select(list => list.Count == 0 ? 0 : list.Max(m => m.Seq)).ToArray();
        lastSeqs.SetResult((sendingDone, lastSeq));
        Progress.Write(FormattableString.Invariant(
            $"Steady rate: {k:N0} sent, {acknowledged:N0} acknowledged; sampling until the chats' flushed marks pass every acknowledged message..."));
        var allFlushedAt = await sampler;
        cancellationToken.ThrowIfCancellationRequested();

        // End-to-end: walk each chat's messages in seq order along the samples in time order.
        var endToEnd = new List<double>((int)acknowledged);
        long notFlushed = 0;
        for (var c = 0; c < chats.Count; c++)
        {
            var messages = sent[c];
            messages.Sort((a, b) => a.Seq.CompareTo(b.Seq));
            var next = 0;
            foreach (var (at, flushed) in marks)
            {
                while (next < messages.Count && messages[next].Seq <= flushed[c])
                {
                    endToEnd.Add(Math.Max(0, (at - messages[next].Started) * 1000.0 / frequency));
                    next++;
                }
            }

            notFlushed += messages.Count - next;
        }

        var intervals = marks.Count > 1 ? (marks[^1].At - marks[0].At) * 1000.0 / frequency / (marks.Count - 1) : double.NaN;
        return new SteadyRateResult(
            rate, chats.Count, duration, scheduled, k, acknowledged, errors, LatencySummary.From([latencies]), maxLag, maxInFlight,
            LatencySummary.From([endToEnd]), notFlushed,
            allFlushedAt is long flushedAt ? Stopwatch.GetElapsedTime(sendingDone, flushedAt) : TimeSpan.MinValue,
            marks.Count, intervals);

        async Task SendOneAsync(int chat)
        {
            try
            {
                var started = Stopwatch.GetTimestamp();
                var outcome = await Sender.SendOnceAsync(chats[chat].Post, http, cancellationToken, readSeq: true);
                var ended = Stopwatch.GetTimestamp();
                if (outcome is not { } result)
                {
                    return; // Cancelled.
                }

                lock (gate)
                {
                    if (result.Succeeded)
                    {
                        sent[chat].Add((result.Seq, started));
                        latencies.Add(Stopwatch.GetElapsedTime(started, ended).TotalMilliseconds);
                        acknowledged++;
                    }
                    else
                    {
                        errors.Add(result.Key, result.Body ?? "");
                    }
                }
            }
            finally
            {
                Interlocked.Decrement(ref inFlight);
            }
        }

        // Returns the timestamp of the sample in which every acknowledged message was flushed; null when the budget ran out.
        async Task<long?> SampleMarksAsync()
        {
            using var timer = new PeriodicTimer(MarkSampleInterval);
            var index = new Dictionary<Guid, int>(keys.Length);
            for (var c = 0; c < keys.Length; c++)
            {
                index[keys[c]] = c;
            }

            var lastProgress = Stopwatch.GetTimestamp();
            try
            {
                while (true)
                {
                    var finished = lastSeqs.Task.IsCompleted ? lastSeqs.Task.Result : ((long At, long[] Seqs)?)null;
                    var (at, flushedById) = await probe.FlushedAsync(keys, stopSampling.Token);
                    var flushed = new long[keys.Length];
                    foreach (var (id, mark) in flushedById)
                    {
                        flushed[index[id]] = mark;
                    }

                    marks.Add((at, flushed));
                    if (finished is var (doneAt, seqs))
                    {
                        var behind = 0L;
                        for (var c = 0; c < seqs.Length; c++)
                        {
                            behind += Math.Max(0, seqs[c] - flushed[c]);
                        }

                        if (behind == 0)
                        {
                            return at;
                        }

                        if (Stopwatch.GetElapsedTime(doneAt) > flushBudget)
                        {
                            return null;
                        }

                        if (Stopwatch.GetElapsedTime(lastProgress) >= TimeSpan.FromSeconds(2))
                        {
                            lastProgress = Stopwatch.GetTimestamp();
                            Progress.Write(FormattableString.Invariant($"steady: {behind:N0} acknowledged messages not yet flushed"));
                        }
                    }

                    await timer.WaitForNextTickAsync(stopSampling.Token);
                }
            }
            catch (OperationCanceledException) when (stopSampling.IsCancellationRequested)
            {
                return null;
            }
        }
    }

    /// <summary>
    /// Phase 3: fills a short and a long chat, waits until every message of both is in segments, then times the same reads
    /// on both, interleaved (one here, one there, the order swapped every round) so whatever runs in the background hits both.
    /// </summary>
    public static async Task<ReadCostResult> ReadCostAsync(
        HttpClient http, FlushProbe probe, PipelineChat shortChat, int shortMessages, PipelineChat longChat, int longMessages,
        int concurrency, int reads, TimeSpan flushBudget, CancellationToken cancellationToken)
    {
        var shortFill = await Workloads.PrefillAsync(http, shortChat.Post, shortMessages, Math.Min(concurrency, shortMessages), cancellationToken, label: "short chat fill", quiet: true);
        var longFill = await Workloads.PrefillAsync(http, longChat.Post, longMessages, concurrency, cancellationToken, label: "long chat fill");
        Progress.Write("Waiting until both chats' messages are all in segments (no pending rows)...");
        var (flushed, waited, stillPending) = await probe.WaitForNoPendingAsync([shortChat.Key, longChat.Key], "read chats", flushBudget, cancellationToken);
        Progress.Write(FormattableString.Invariant($"{(flushed ? "Flushed" : "NOT flushed")} after {waited.TotalSeconds:0.0} s; reading"));

        var errors = new ErrorTally();
        var warmup = Math.Min(20, reads);
        var history = await CompareReadsAsync(
            "GET /api/v1/chat/{id}/messages/?limit=50", "messages/?limit=50", 50, Read.History);
        var detail = await CompareReadsAsync(
            "GET /api/v1/chat/{id}/ (default window)", "", 100, Read.Detail);
        return new ReadCostResult(
            shortMessages, longMessages, shortFill, longFill, waited, flushed, stillPending, reads, warmup, history, detail, errors);

        async Task<ReadComparison> CompareReadsAsync(string request, string suffix, int expected, Read kind)
        {
            var shortPath = new Uri($"api/v1/chat/{Uri.EscapeDataString(shortChat.Id)}/{suffix}", UriKind.Relative);
            var longPath = new Uri($"api/v1/chat/{Uri.EscapeDataString(longChat.Id)}/{suffix}", UriKind.Relative);
            var shortToken = new AuthenticationHeaderValue("Bearer", shortChat.Creator.AccessToken);
            var longToken = new AuthenticationHeaderValue("Bearer", longChat.Creator.AccessToken);
            var shortTimes = new List<double>(reads);
            var longTimes = new List<double>(reads);
            var shortShape = new ReadShape();
            var longShape = new ReadShape();
            Progress.Write(FormattableString.Invariant($"Reads: {request}, {warmup} unmeasured then {reads:N0} measured on each chat, interleaved"));
            for (var i = -warmup; i < reads; i++)
            {
                var measured = i >= 0 ? (shortTimes, longTimes) : (null, null);
                if (i % 2 == 0)
                {
                    await TimeOneAsync(shortPath, shortToken, measured.Item1, shortShape, "short chat");
                    await TimeOneAsync(longPath, longToken, measured.Item2, longShape, "long chat");
                }
                else
                {
                    await TimeOneAsync(longPath, longToken, measured.Item2, longShape, "long chat");
                    await TimeOneAsync(shortPath, shortToken, measured.Item1, shortShape, "short chat");
                }
            }

            return new ReadComparison(
                request, expected, LatencySummary.From([shortTimes]), LatencySummary.From([longTimes]),
                shortShape.Bytes, longShape.Bytes, shortShape.PendingServed, longShape.PendingServed);

            async Task TimeOneAsync(Uri path, AuthenticationHeaderValue token, List<double>? times, ReadShape shape, string chat)
            {
                using var message = new HttpRequestMessage(HttpMethod.Get, path);
                message.Headers.Authorization = token;
                var started = Stopwatch.GetTimestamp();
                byte[] body;
                System.Net.HttpStatusCode status;
                try
                {
                    using var response = await http.SendAsync(message, HttpCompletionOption.ResponseContentRead, cancellationToken);
                    body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                    status = response.StatusCode;
                }
                catch (HttpRequestException ex)
                {
                    errors.Add($"{chat}: transport error ({ex.HttpRequestError})", ex.Message);
                    return;
                }
                catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    errors.Add($"{chat}: client timeout", $"no answer within {http.Timeout.TotalSeconds} s");
                    return;
                }

                var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                var text = System.Text.Encoding.UTF8.GetString(body);
                if (status != System.Net.HttpStatusCode.OK)
                {
                    errors.Add(string.Create(CultureInfo.InvariantCulture, $"{chat}: {(int)status} {status}"), Json.Shorten(text));
                    return;
                }

                var (count, pending) = Count(body, kind);
                if (count != expected)
                {
                    errors.Add(string.Create(CultureInfo.InvariantCulture, $"{chat}: {count} messages, not {expected}"), Json.Shorten(text));
                    return;
                }

                shape.Bytes = body.Length;
                shape.PendingServed = pending;
                times?.Add(elapsed);
            }
        }
    }

    /// <summary>Messages in an answer, and how many of them came from pending rows rather than segments.</summary>
    private static (int Count, int Pending) Count(byte[] body, Read kind)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (kind == Read.History)
            {
                return (Length(root, "messages"), -1);
            }

            var flushed = root.TryGetProperty("message_data", out var data) ? Length(data, "messages") : 0;
            var pending = root.TryGetProperty("cache_messages", out var cache) ? Length(cache, "messages") : 0;
            return (flushed + pending, pending);
        }
        catch (JsonException)
        {
            return (-1, -1);
        }

        static int Length(JsonElement element, string name) =>
            element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var list) && list.ValueKind == JsonValueKind.Array
                ? list.GetArrayLength()
                : -1;
    }

    private enum Read
    {
        History,
        Detail,
    }

    private sealed class ReadShape
    {
        public long Bytes { get; set; }

        /// <summary>Messages the last answer served from pending rows (cache_messages); -1 when the answer does not say.</summary>
        public long PendingServed { get; set; } = -1;
    }
}
