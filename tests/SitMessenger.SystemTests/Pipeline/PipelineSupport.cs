using System.Collections.Concurrent;
using System.Data;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using SitMessenger.Testing;
using SitMessenger.SystemTests.Api;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests.Pipeline;

/// <summary>Waits by polling: never a fixed sleep, always a deadline and the latest state in the failure.</summary>
internal static class Poll
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(250);

    public static async Task<T> UntilAsync<T>(
        string what,
        TimeSpan timeout,
        Func<Task<T>> probe,
        Func<T, bool> done,
        Func<T, string>? describe = null,
        TimeSpan? interval = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var state = await probe();
            if (done(state))
            {
                return state;
            }

            if (clock.Elapsed > timeout)
            {
                var latest = describe is null ? state?.ToString() ?? "(null)" : describe(state);
                Assert.Fail(string.Create(CultureInfo.InvariantCulture, $"{what}: not reached within {timeout.TotalSeconds:0} s. Latest state: {latest}"));
            }

            await Task.Delay(interval ?? DefaultInterval);
        }
    }

    /// <summary>Waits until the resource is Healthy with a process other than <paramref name="oldProcessId"/>.</summary>
    public static Task<ResourceStatus> UntilRestartedAsync(SitMessengerSystem app, string name, int? oldProcessId, TimeSpan timeout) =>
        UntilAsync(
            $"{name} healthy again with a new process (old pid {oldProcessId})",
            timeout,
            () => Task.FromResult(app.Status(name)),
            s => s.IsHealthy && s.ProcessId is int pid && pid != oldProcessId,
            s => $"{s.State} ({s.Health}) pid {s.ProcessId} exit code {s.ExitCode}");
}

/// <summary>One message as GET /api/v1/chat/{id}/messages/ answers it.</summary>
internal sealed record HistoryMessage(long Seq, string Datetime, string User, string Message);

/// <summary>One page of history.</summary>
internal sealed record HistoryPage(IReadOnlyList<HistoryMessage> Messages, bool HasMore);

/// <summary>What the pipeline tests do through the Gateway: send many, read history, check it.</summary>
internal static class ChatTraffic
{
    public const int MaxLimit = 500;

    /// <summary>A text unique to this run, padded to <paramref name="length"/> characters.</summary>
    public static string Text(string tag, int index, int length = 40)
    {
        // No trailing blank: the API trims text, as DRF's CharField does.
        var head = string.Create(CultureInfo.InvariantCulture, $"{tag} #{index:D5}");
        return head.Length + 1 >= length ? head : head + " " + new string('x', length - head.Length - 1);
    }

    /// <summary>
    /// Sends every text with <paramref name="concurrency"/> senders through POST /messages/; each must answer 201.
    /// Answers seq → text. Texts are taken in order, so seqs roughly follow the list.
    /// </summary>
    public static async Task<IReadOnlyDictionary<long, string>> SendAllAsync(
        SitApiClient api,
        TestUser sender,
        string chatId,
        IReadOnlyList<string> texts,
        int concurrency,
        TimeSpan? pauseBetweenSends = null,
        Action<int>? onSent = null)
    {
        var sent = new ConcurrentDictionary<long, string>();
        var next = -1;
        var done = 0;
        async Task SenderAsync()
        {
            while (Interlocked.Increment(ref next) is var index && index < texts.Count)
            {
                var answer = await api.PostMessageAsync(sender, chatId, texts[index]);
                ApiAssert.Status(HttpStatusCode.Created, answer);
                var seq = answer.Body.GetProperty("seq").GetInt64();
                Assert.Equal(texts[index], answer.Body.GetProperty("message").GetString());
                Assert.True(sent.TryAdd(seq, texts[index]), $"seq {seq} given to two sends: '{sent.GetValueOrDefault(seq)}' and '{texts[index]}'");
                onSent?.Invoke(Interlocked.Increment(ref done));
                if (pauseBetweenSends is { } pause)
                {
                    await Task.Delay(pause);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(SenderAsync)));
        return sent;
    }

    public static string HistoryPath(string chatId, long? before, int limit) =>
        before is { } b
            ? string.Create(CultureInfo.InvariantCulture, $"{SitApiClient.MessagesPath(chatId)}?before={b}&limit={limit}")
            : string.Create(CultureInfo.InvariantCulture, $"{SitApiClient.MessagesPath(chatId)}?limit={limit}");

    public static async Task<HistoryPage> HistoryAsync(SitApiClient api, TestUser reader, string chatId, long? before, int limit)
    {
        var answer = await api.GetAsync(HistoryPath(chatId, before, limit), reader.Access);
        ApiAssert.Status(HttpStatusCode.OK, answer);
        return Page(answer);
    }

    public static HistoryPage Page(ApiResponse answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        Assert.True(answer.Body.ValueKind == JsonValueKind.Object && answer.Body.TryGetProperty("messages", out var list) && list.ValueKind == JsonValueKind.Array,
            $"not a history page: {answer}");
        var messages = answer.Body.GetProperty("messages").EnumerateArray()
            .Select(m => new HistoryMessage(m.GetProperty("seq").GetInt64(), m.GetProperty("datetime").GetString()!, m.GetProperty("user").GetString()!, m.GetProperty("message").GetString()!))
            .ToList();
        return new HistoryPage(messages, answer.Body.GetProperty("has_more").GetBoolean());
    }

    /// <summary>The whole chat, paging backwards from the newest with the largest pages; oldest first.</summary>
    public static async Task<IReadOnlyList<HistoryMessage>> WholeHistoryAsync(SitApiClient api, TestUser reader, string chatId)
    {
        var pages = new List<IReadOnlyList<HistoryMessage>>();
        long? before = null;
        while (true)
        {
            var page = await HistoryAsync(api, reader, chatId, before, MaxLimit);
            Assert.True(page.Messages.Count > 0 || !page.HasMore, $"an empty page before {before} says has_more");
            pages.Add(page.Messages);
            if (!page.HasMore)
            {
                break;
            }

            before = page.Messages[0].Seq;
            Assert.True(pages.Count < 10_000, "history paging does not end");
        }

        pages.Reverse();
        return [.. pages.SelectMany(p => p)];
    }

    /// <summary>
    /// Seqs are consecutive from <paramref name="firstSeq"/> (strictly increasing, none missing, none repeated), seq 1
    /// is the chat's own first line, and every other message is exactly the text that send got its seq for.
    /// A seq not in <paramref name="sent"/> is a failure unless <paramref name="allowUnknown"/> (a read racing a send
    /// whose answer is not back yet is checked later against the complete map).
    /// </summary>
    public static void AssertConsecutive(IReadOnlyList<HistoryMessage> messages, long firstSeq, IReadOnlyDictionary<long, string> sent, string context, bool allowUnknown = false)
    {
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            var expectedSeq = firstSeq + i;
            if (message.Seq != expectedSeq)
            {
                Assert.Fail($"{context}: message {i} has seq {message.Seq}, expected {expectedSeq} (seqs around it: {Around(messages, i)})");
            }

            if (message.Seq == 1)
            {
                Assert.True(message.User.Length == 0 && message.Message == SitApiClient.BeginningOfMessages,
                    $"{context}: seq 1 is '{message.User}: {message.Message}', not the chat's first line");
                continue;
            }

            if (sent.TryGetValue(message.Seq, out var text))
            {
                if (!string.Equals(text, message.Message, StringComparison.Ordinal))
                {
                    Assert.Fail($"{context}: seq {message.Seq} reads '{Short(message.Message)}', but its send was '{Short(text)}'");
                }
            }
            else if (!allowUnknown)
            {
                Assert.Fail($"{context}: seq {message.Seq} ('{Short(message.Message)}') was never sent by this test");
            }
        }
    }

    /// <summary>The whole chat is exactly seq 1 (its first line) and then every send, each once and in seq order.</summary>
    public static void AssertWholeChat(IReadOnlyList<HistoryMessage> messages, IReadOnlyDictionary<long, string> sent, string context)
    {
        AssertConsecutive(messages, 1, sent, context);
        var expectedLast = sent.Count == 0 ? 1 : sent.Keys.Max();
        Assert.True(messages.Count == sent.Count + 1 && (messages.Count == 0 ? 0 : messages[^1].Seq) == expectedLast,
            $"{context}: {messages.Count} messages up to seq {(messages.Count == 0 ? 0 : messages[^1].Seq)}, expected {sent.Count + 1} up to seq {expectedLast}");
        var texts = messages.Select(m => m.Message).ToList();
        Assert.True(texts.Count == texts.Distinct(StringComparer.Ordinal).Count(), $"{context}: a text appears twice");
    }

    private static string Around(IReadOnlyList<HistoryMessage> messages, int index) =>
        string.Join(", ", messages.Skip(Math.Max(0, index - 3)).Take(7).Select(m => m.Seq.ToString(CultureInfo.InvariantCulture)));

    public static string Short(string text) => text.Length > 40 ? text[..40] + "..." : text;
}

/// <summary>Where a chat's messages are, as PostgreSQL has it, read in one snapshot.</summary>
internal sealed record ChatStorage(long LastSeq, long FlushedSeq, long Pending, IReadOnlyList<SegmentRow> Segments)
{
    public long SegmentMessages => Segments.Sum(s => s.LastSeq - s.FirstSeq + 1);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"last_seq {LastSeq}, flushed_seq {FlushedSeq}, pending {Pending}, {Segments.Count} segments holding {SegmentMessages} ({string.Join(' ', Segments.Select(s => $"{s.FirstSeq}..{s.LastSeq}"))})");
}

internal sealed record SegmentRow(long FirstSeq, long LastSeq, string Location);

/// <summary>Reads (only reads) the system's PostgreSQL. No pooling: other tests restart PostgreSQL under us.</summary>
internal sealed class PipelineDatabase(SitMessengerSystem app)
{
    private readonly string _connectionString = app.GetConnectionString("sitdb") + ";Pooling=false;Timeout=10";

    public async Task<ChatStorage> StorageAsync(string chatId)
    {
        var id = Guid.Parse(chatId);
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead);
        long lastSeq, flushedSeq, pending;
        await using (var marks = new NpgsqlCommand(
            "SELECT c.last_seq, c.flushed_seq, (SELECT count(*) FROM pending_messages p WHERE p.chat_id = c.id) FROM chats c WHERE c.id = @id",
            connection, transaction))
        {
            marks.Parameters.AddWithValue("id", id);
            await using var reader = await marks.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync(), $"chat {chatId} is not in the chats table");
            (lastSeq, flushedSeq, pending) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
        }

        var segments = new List<SegmentRow>();
        await using (var rows = new NpgsqlCommand(
            "SELECT first_seq, last_seq, location FROM chat_segments WHERE chat_id = @id ORDER BY first_seq, last_seq", connection, transaction))
        {
            rows.Parameters.AddWithValue("id", id);
            await using var reader = await rows.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                segments.Add(new SegmentRow(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2)));
            }
        }

        await transaction.CommitAsync();
        return new ChatStorage(lastSeq, flushedSeq, pending, segments);
    }

    public async Task<long> PendingCountAsync(string chatId)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pending_messages WHERE chat_id = @id", connection);
        command.Parameters.AddWithValue("id", Guid.Parse(chatId));
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Waits until nothing of the chat is pending any more; answers the storage as it was then.</summary>
    public async Task<ChatStorage> UntilFlushedAsync(string chatId, long expectedLastSeq, TimeSpan timeout, Func<Task<string>>? moreState = null)
    {
        var (storage, _) = await Poll.UntilAsync(
            $"every message of chat {chatId} (up to seq {expectedLastSeq}) moved into segments",
            timeout,
            async () =>
            {
                var now = await StorageAsync(chatId);
                var extra = now.Pending == 0 || moreState is null ? "" : await moreState();
                return (Storage: now, Extra: extra);
            },
            s => s.Storage.Pending == 0 && s.Storage.FlushedSeq == expectedLastSeq,
            s => s.Storage + s.Extra);
        return storage;
    }

    /// <summary>
    /// The segments cover 1..flushed_seq exactly once (no gap, no overlap), what they hold plus what is pending is
    /// the chat's last_seq, and each row's file exists.
    /// </summary>
    public static void AssertConsistent(ChatStorage storage, string segmentFolder, string context)
    {
        ArgumentNullException.ThrowIfNull(storage);
        var expectedFirst = 1L;
        foreach (var segment in storage.Segments)
        {
            Assert.True(segment.FirstSeq == expectedFirst && segment.LastSeq >= segment.FirstSeq,
                $"{context}: segment {segment.FirstSeq}..{segment.LastSeq} ({segment.Location}) should start at {expectedFirst}: overlap or gap. {storage}");
            expectedFirst = segment.LastSeq + 1;
            var path = Path.Combine(Path.GetDirectoryName(segmentFolder)!, segment.Location);
            Assert.True(File.Exists(path), $"{context}: segment row {segment.FirstSeq}..{segment.LastSeq} points at {path}, which does not exist");
        }

        Assert.True(storage.FlushedSeq == expectedFirst - 1, $"{context}: flushed_seq {storage.FlushedSeq} but segments end at {expectedFirst - 1}. {storage}");
        Assert.True(storage.SegmentMessages + storage.Pending == storage.LastSeq,
            $"{context}: segments hold {storage.SegmentMessages} and {storage.Pending} are pending, but last_seq is {storage.LastSeq}. {storage}");
    }
}

/// <summary>Where segment files and logs of the running system are.</summary>
internal static class StateFiles
{
    public static string SegmentFolder(SitMessengerSystem app, string chatId) =>
        Path.Combine(app.StateDirectory, "segments", Guid.Parse(chatId).ToString("N", CultureInfo.InvariantCulture));

    public static IReadOnlyList<string> SegmentFiles(SitMessengerSystem app, string chatId)
    {
        var folder = SegmentFolder(app, chatId);
        return Directory.Exists(folder) ? [.. Directory.EnumerateFiles(folder, "*.seg").Order(StringComparer.Ordinal)] : [];
    }

    public static string LogPath(SitMessengerSystem app, string resource) => app.LogPath(resource);

    /// <summary>The log's lines from byte <paramref name="offset"/> on (the file is shared for writing by the AppHost).</summary>
    public static string LogSince(SitMessengerSystem app, string resource, long offset)
    {
        var path = LogPath(app, resource);
        if (!File.Exists(path))
        {
            return "";
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        stream.Seek(Math.Min(offset, stream.Length), SeekOrigin.Begin);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public static long LogLength(SitMessengerSystem app, string resource)
    {
        var path = LogPath(app, resource);
        return File.Exists(path) ? new FileInfo(path).Length : 0;
    }

    public static string Tail(string text, int lines = 30) =>
        string.Join(Environment.NewLine, text.Split('\n').TakeLast(lines));
}

internal sealed record JobEvent(string EventId, string JobId, string Type, int Attempt, string State, string At, double? DurationMs, string Detail)
{
    public DateTimeOffset Time => DateTimeOffset.Parse(At, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

    public override string ToString() => $"{At} {Type} {JobId} #{Attempt} {State} {Detail}";
}

internal sealed record DeadLetter(string JobId, string Type, int Attempts, string? Error, string? FailedAt, string? Queue);

internal sealed record RequeueAnswer(int Requeued);

/// <summary>The Worker's jobs API (events, dead letters).</summary>
internal sealed class WorkerJobs : IDisposable
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Stands for "the key the system's AppHost generated" where a test may also send none or a wrong one.</summary>
    public const string UseTheSystemsKey = "(the system's key)";

    private readonly HttpClient _client;
    private readonly SitMessengerSystem _app;

    public WorkerJobs(SitMessengerSystem app, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        _app = app;
        _client = new HttpClient { BaseAddress = app.GetEndpoint("worker"), Timeout = timeout ?? TimeSpan.FromSeconds(15) };
    }

    /// <summary>The newest <paramref name="count"/> events, newest first.</summary>
    public async Task<IReadOnlyList<JobEvent>> EventsAsync(int count = 500, CancellationToken cancellationToken = default) =>
        await _client.GetFromJsonAsync<List<JobEvent>>(new Uri(string.Create(CultureInfo.InvariantCulture, $"/jobs/events?count={count}"), UriKind.Relative), Json, cancellationToken)
        ?? [];

    /// <summary>Events, or none while the Worker does not answer (it is being restarted).</summary>
    public async Task<IReadOnlyList<JobEvent>> EventsOrNoneAsync(int count = 500)
    {
        try
        {
            return await EventsAsync(count);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
        {
            return [];
        }
    }

    public async Task<IReadOnlyList<DeadLetter>> DeadLettersAsync(int count = 1000) =>
        await _client.GetFromJsonAsync<List<DeadLetter>>(new Uri(string.Create(CultureInfo.InvariantCulture, $"/jobs/dead-letters?count={count}"), UriKind.Relative), Json)
        ?? [];

    /// <summary>As the AppHost's dashboard command does: operator actions need the operator key (<c>Operator:Key</c>).</summary>
    public async Task<(HttpStatusCode Status, string Body)> RequeueAsync(string? operatorKey = UseTheSystemsKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/jobs/dead-letters/requeue", UriKind.Relative));
        if (operatorKey is not null)
        {
            request.Headers.Authorization = new("Bearer", operatorKey == UseTheSystemsKey ? await _app.OperatorKeyAsync() : operatorKey);
        }

        using var response = await _client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public static string Describe(IEnumerable<JobEvent> events, int max = 40) =>
        string.Join(Environment.NewLine, events.Take(max).Select(e => "    " + e));

    public void Dispose() => _client.Dispose();
}

/// <summary>
/// How the pipeline tests reach the system. Messages go straight to the Api's own endpoint: the Gateway limits each
/// user to 120 sends per 10 s and each address to 600 requests per 10 s, far below the load these tests need, and the
/// Gateway is not what they test. Users are the suite's shared ones (registered once, through the Gateway): the
/// Pipeline folder registers nobody, so it adds nothing to the 20-a-minute registration and login throttle.
/// </summary>
internal sealed class PipelineClients : IDisposable
{
    private readonly HttpClient _direct;
    private readonly SitApiClient _gateway;

    public PipelineClients(SitMessengerAppFixture fixture)
    {
        ArgumentNullException.ThrowIfNull(fixture);
        _direct = new HttpClient { BaseAddress = fixture.App.GetEndpoint("api"), Timeout = TimeSpan.FromSeconds(30) };
        _gateway = new SitApiClient(fixture.Gateway);
        Api = new SitApiClient(_direct);
        Database = new PipelineDatabase(fixture.App);
    }

    /// <summary>The Api itself, without the Gateway's rate limits.</summary>
    public SitApiClient Api { get; }

    public PipelineDatabase Database { get; }

    public async Task<(TestUser Alice, TestUser Bob)> UsersAsync()
    {
        var users = await _gateway.SharedUsersAsync();
        return (users[0], users[1]);
    }

    public void Dispose() => _direct.Dispose();
}
