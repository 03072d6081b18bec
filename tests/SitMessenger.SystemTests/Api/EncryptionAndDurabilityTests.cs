using System.Diagnostics;
using System.Globalization;
using System.Net;
using Npgsql;
using SitMessenger.SystemTests.Infrastructure;
using SitMessenger.SystemTests.Pipeline;
using StackExchange.Redis;

namespace SitMessenger.SystemTests.Api;

/// <summary>
/// Nothing a member writes is stored readable anywhere (PostgreSQL, Redis, files, logs), a message that got a 2xx
/// survives a Redis restart, and with PostgreSQL down a send is refused with 503 instead of pretending.
/// These tests stop and start servers of the shared system; they always start them again.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class EncryptionAndDurabilityTests(SitMessengerAppFixture fixture)
{
    private const string StoreUnavailable = """{"detail": "The message store is unavailable; nothing was saved. Try again shortly."}""";
    private static readonly TimeSpan AnswerBudget = TimeSpan.FromSeconds(25);
    private static readonly TimeSpan ServerStartBudget = TimeSpan.FromMinutes(2);

    private readonly SitApiClient _api = new(fixture.Gateway);

    [Fact]
    public async Task A_message_is_stored_nowhere_in_plaintext_yet_members_read_it()
    {
        var users = await _api.SharedUsersAsync();
        var chatId = await _api.CreateChatAsync(users[0], users[1]);
        var marker = $"plaintext-marker-{Guid.NewGuid()}";
        var search = new PlaintextSearch(marker);
        var patchedText = $"the web client says {marker}";
        var postedText = $"{marker} (newer send)";
        var findings = new List<string>();

        // Redis right after each send, while the message is freshly cached (a flush trims the cache): every key of
        // every database, read by its type.
        ApiAssert.Status(HttpStatusCode.OK, await _api.PatchMessageAsync(users[0], chatId, patchedText));
        var afterPatch = await ScanRedisAsync(search, chatId);
        ApiAssert.Status(HttpStatusCode.Created, await _api.PostMessageAsync(users[1], chatId, postedText));
        var afterPost = await ScanRedisAsync(search, chatId);
        findings.AddRange(afterPatch.Findings.Concat(afterPost.Findings).Distinct());
        Assert.True(afterPatch.KeysForChat + afterPost.KeysForChat > 0,
            $"no Redis key names (or holds) chat {chatId}: the cache scan would prove nothing ({afterPost.Keys} keys scanned)");

        // The members get the plaintext back.
        Assert.Equal([patchedText, postedText], SitApiClient.Written(await _api.ReadLinesAsync(users[1], chatId)));
        Assert.Equal([patchedText, postedText], SitApiClient.Written(await _api.ReadLinesAsync(users[0], chatId)));

        // PostgreSQL: a whole dump. bytea comes out as hex, which the search covers.
        var dump = await PgDumpAsync();
        Assert.Contains("pending_messages", dump, StringComparison.Ordinal);
        Assert.Contains(chatId, dump, StringComparison.Ordinal);
        // The control: what is stored in the clear on purpose (usernames) is found by the same search.
        Assert.Equal("plaintext", new PlaintextSearch(users[1].Username).Find(dump));
        if (search.Find(dump) is { } inDump)
        {
            findings.Add($"pg_dump holds the marker ({inDump})");
        }

        // Every regular file of the state folder: logs, PostgreSQL's data and WAL, Redis' append-only file,
        // RabbitMQ's store, segment files. Give the log writers a moment to catch up first.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var files = await ScanStateFolderAsync(search, findings);
        Assert.Contains(Path.Combine(fixture.App.StateDirectory, "logs", "api.log"), files);

        Assert.True(findings.Count == 0, "plaintext stored:" + Environment.NewLine + string.Join(Environment.NewLine, findings));
    }

    [Fact]
    public async Task Flushed_messages_are_ciphertext_in_their_segment_files()
    {
        var users = await _api.SharedUsersAsync();
        var chatId = await _api.CreateChatAsync(users[0], users[1]);
        var marker = $"segment-marker-{Guid.NewGuid()}";
        var search = new PlaintextSearch(marker);
        var texts = new[] { $"first {marker}", $"second {marker}" };
        ApiAssert.Status(HttpStatusCode.OK, await _api.PatchMessageAsync(users[0], chatId, texts[0]));
        ApiAssert.Status(HttpStatusCode.Created, await _api.PostMessageAsync(users[1], chatId, texts[1]));

        // The Worker moves pending messages into a segment after the flush delay (20 s by default): wait until the
        // chat shows them under message_data.
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var chat = await _api.GetChatAsync(users[0], chatId);
            ApiAssert.Status(HttpStatusCode.OK, chat);
            var flushed = SitApiClient.Written(chat.Body.GetProperty("message_data").GetProperty("messages").EnumerateArray().Select(SitApiClient.Line));
            Assert.Equal(texts, SitApiClient.Written(SitApiClient.Lines(chat.Body)));
            if (flushed.Count == texts.Length)
            {
                break;
            }

            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(90), $"the messages were not flushed into a segment within 90 s: {chat}");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        var findings = new List<string>();
        var files = await ScanStateFolderAsync(search, findings);
        var chatForms = new[] { chatId, Guid.Parse(chatId).ToString("N") };
        var segmentFiles = files.Where(f => chatForms.Any(c => f.Contains(c, StringComparison.OrdinalIgnoreCase))).ToList();
        Assert.True(segmentFiles.Count > 0, $"no file under {fixture.App.StateDirectory} names chat {chatId}: where are its segments?");
        Assert.True(findings.Count == 0, "plaintext stored:" + Environment.NewLine + string.Join(Environment.NewLine, findings));

        // And the members still read them.
        Assert.Equal(texts, SitApiClient.Written(await _api.ReadLinesAsync(users[1], chatId)));
    }

    [Fact]
    public async Task A_redis_restart_loses_no_message_sends_keep_working_while_redis_is_down_and_the_api_logs_the_outage_once()
    {
        var users = await _api.SharedUsersAsync();
        var (alice, bob) = (users[0], users[1]);
        var chatId = await _api.CreateChatAsync(alice, bob);
        var expected = new List<string>();
        for (var i = 1; i <= 5; i++)
        {
            expected.Add(await SendAsync(i % 2 == 0 ? bob : alice, chatId, $"before the redis restart {i}", usePatch: i % 2 == 1));
        }

        var apiLogStart = StateFiles.LogLength(fixture.App, "api");
        try
        {
            await fixture.App.StopResourceAsync("cache");

            for (var i = 1; i <= 5; i++)
            {
                expected.Add(await SendAsync(i % 2 == 0 ? bob : alice, chatId, $"while redis is down {i}", usePatch: i % 2 == 0));
            }

            await AssertChatIsAsync(expected, alice, chatId, "while Redis is down");
        }
        finally
        {
            using var starting = new CancellationTokenSource(ServerStartBudget);
            await fixture.App.StartResourceAsync("cache", starting.Token);
        }

        // Right away and while the API reconnects to Redis: the whole chat, in order, each message once.
        var watch = Stopwatch.StartNew();
        do
        {
            await AssertChatIsAsync(expected, watch.Elapsed < TimeSpan.FromSeconds(5) ? bob : alice, chatId, "after Redis came back");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        while (watch.Elapsed < TimeSpan.FromSeconds(10));

        expected.Add(await SendAsync(bob, chatId, "after the redis restart", usePatch: true));
        await AssertChatIsAsync(expected, alice, chatId, "after a send once Redis was back");

        // One line when Redis went, one when it came back: not one per request or per reconnect attempt.
        var log = await OutageLines.UntilRecoveredAsync(fixture.App, "api", apiLogStart, "Redis");
        Assert.True(log.Down == 1 && log.Up == 1, $"{log.Down} outage and {log.Up} recovery lines for Redis in the Api's log:{Environment.NewLine}{log.Lines}");
    }

    [Fact]
    public async Task With_postgres_down_a_send_is_503_saves_nothing_and_sends_work_again_once_it_is_back()
    {
        var users = await _api.SharedUsersAsync();
        var (alice, bob) = (users[0], users[1]);
        var chatId = await _api.CreateChatAsync(alice, bob);
        var before = await SendAsync(alice, chatId, "before the postgres outage", usePatch: true);

        var refused = new List<string>();
        var unanswered = new List<string>();
        try
        {
            await fixture.App.StopResourceAsync("postgres");

            foreach (var usePatch in new[] { true, false })
            {
                var text = $"sent while postgres is down ({(usePatch ? "PATCH" : "POST")}) {Guid.NewGuid()}";
                var answer = await TrySendAsync(bob, chatId, text, usePatch);
                if (answer is null)
                {
                    Assert.Fail($"no answer within {AnswerBudget.TotalSeconds:0} s to a send while PostgreSQL is down; expected 503 {StoreUnavailable}");
                }

                ApiAssert.Answer(HttpStatusCode.ServiceUnavailable, StoreUnavailable, answer);
                refused.Add(text);
            }
        }
        finally
        {
            using var starting = new CancellationTokenSource(ServerStartBudget);
            await fixture.App.StartResourceAsync("postgres", starting.Token);
        }

        // Sends succeed again within 30 s of PostgreSQL being back, on every Api replica (several in a row, spread by
        // the Gateway); every refused attempt saved nothing.
        const int RequiredInARow = 6;
        var watch = Stopwatch.StartNew();
        var accepted = new List<string>();
        var inARow = 0;
        ApiResponse? last = null;
        for (var attempt = 1; inARow < RequiredInARow; attempt++)
        {
            var text = string.Create(CultureInfo.InvariantCulture, $"after the postgres outage, attempt {attempt} {Guid.NewGuid()}");
            last = await TrySendAsync(bob, chatId, text, usePatch: false);
            if (last is null)
            {
                unanswered.Add(text);
            }
            else if ((int)last.Status is >= 200 and < 300)
            {
                accepted.Add(text);
                inARow++;
                continue;
            }
            else
            {
                refused.Add(text);
            }

            // A failure after successes means some replica has not recovered yet: start counting again.
            inARow = 0;
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"sends still fail 30 s after PostgreSQL was back; last answer: {last?.ToString() ?? "none"}");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        var written = SitApiClient.Written(await _api.ReadLinesAsync(alice, chatId));
        Assert.All(refused, text => Assert.DoesNotContain(text, written));
        // A send that got no answer may or may not have been saved; if it was, once.
        Assert.All(unanswered, text => Assert.True(written.Count(w => w == text) <= 1, $"'{text}' saved twice"));
        Assert.Equal([before, .. accepted], written.Where(w => !unanswered.Contains(w)));
    }

    // ------------------------------------------------------------------ helpers

    private async Task<string> SendAsync(TestUser sender, string chatId, string text, bool usePatch)
    {
        var answer = await TrySendAsync(sender, chatId, text, usePatch);
        Assert.True(answer is not null, $"no answer within {AnswerBudget.TotalSeconds:0} s to sending '{text}'");
        ApiAssert.Status(usePatch ? HttpStatusCode.OK : HttpStatusCode.Created, answer!);
        return text;
    }

    /// <summary>Sends with PATCH (web client) or POST /messages/ (newer); null when no answer came in time.</summary>
    private async Task<ApiResponse?> TrySendAsync(TestUser sender, string chatId, string text, bool usePatch)
    {
        using var timeout = new CancellationTokenSource(AnswerBudget);
        try
        {
            return usePatch
                ? await _api.PatchMessageAsync(sender, chatId, text, timeout.Token)
                : await _api.PostMessageAsync(sender, chatId, text, timeout.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>GET the chat and its history: exactly <paramref name="expected"/>, in order, each once.</summary>
    private async Task AssertChatIsAsync(IReadOnlyList<string> expected, TestUser reader, string chatId, string when)
    {
        var chat = await _api.GetChatAsync(reader, chatId);
        Assert.True(chat.Status == HttpStatusCode.OK, $"{when}: reading the chat answered {chat}");
        var lines = SitApiClient.Lines(chat.Body);
        Assert.True(lines.Count > 0 && lines[0].Message == SitApiClient.BeginningOfMessages, $"{when}: the chat does not start with its first line: {chat}");
        var written = SitApiClient.Written(lines);
        Assert.True(expected.SequenceEqual(written), $"{when}: expected [{string.Join(" | ", expected)}] but the chat shows [{string.Join(" | ", written)}]");

        var history = await _api.GetAsync(SitApiClient.MessagesPath(chatId) + "?limit=500", reader.Access);
        Assert.True(history.Status == HttpStatusCode.OK, $"{when}: reading the history answered {history}");
        var historyWritten = SitApiClient.Written(history.Body.GetProperty("messages").EnumerateArray().Select(SitApiClient.Line));
        Assert.True(expected.SequenceEqual(historyWritten), $"{when}: expected [{string.Join(" | ", expected)}] but the history shows [{string.Join(" | ", historyWritten)}]");
    }

    private sealed record RedisScan(int Keys, int KeysForChat, IReadOnlyList<string> Findings);

    private async Task<RedisScan> ScanRedisAsync(PlaintextSearch search, string chatId)
    {
        var chatForms = new PlaintextSearch[] { new(chatId), new(Guid.Parse(chatId).ToString("N")) };
        bool MentionsChat(byte[]? bytes) => bytes is not null && chatForms.Any(f => f.Find(bytes) == "plaintext");

        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.App.GetConnectionString("cache") + ",allowAdmin=true");
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        var findings = new List<string>();
        var (keys, keysForChat) = (0, 0);
        for (var index = 0; index < server.DatabaseCount; index++)
        {
            if (await server.DatabaseSizeAsync(index) == 0)
            {
                continue;
            }

            var database = redis.GetDatabase(index);
            await foreach (var key in server.KeysAsync(index, pattern: "*", pageSize: 500))
            {
                keys++;
                var name = (byte[])key!;
                var values = await ValuesAsync(database, key);
                if (search.Find(name) is { } inName)
                {
                    findings.Add($"Redis db {index} key name '{key}' holds the marker ({inName})");
                }

                if (values.Select(v => search.Find(v)).FirstOrDefault(f => f is not null) is { } inValue)
                {
                    findings.Add($"Redis db {index} key '{key}' holds the marker ({inValue})");
                }

                if (MentionsChat(name) || values.Any(MentionsChat))
                {
                    keysForChat++;
                }
            }
        }

        return new RedisScan(keys, keysForChat, findings);
    }

    private static async Task<List<byte[]>> ValuesAsync(IDatabase database, RedisKey key)
    {
        static byte[] Bytes(RedisValue value) => value.IsNull ? [] : (byte[])value!;
        switch (await database.KeyTypeAsync(key))
        {
            case RedisType.String:
                return [Bytes(await database.StringGetAsync(key))];
            case RedisType.List:
                return [.. (await database.ListRangeAsync(key)).Select(Bytes)];
            case RedisType.Set:
                return [.. (await database.SetMembersAsync(key)).Select(Bytes)];
            case RedisType.SortedSet:
                return [.. (await database.SortedSetRangeByRankAsync(key)).Select(Bytes)];
            case RedisType.Hash:
                return [.. (await database.HashGetAllAsync(key)).SelectMany(e => new[] { Bytes(e.Name), Bytes(e.Value) })];
            case RedisType.Stream:
                return [.. (await database.StreamRangeAsync(key)).SelectMany(e => e.Values.SelectMany(v => new[] { Bytes(v.Name), Bytes(v.Value) }))];
            case RedisType.None:
                return []; // expired while we looked
            default:
                // Anything else (a module type) cannot be read here; DUMP gives its serialized form.
                return [await database.KeyDumpAsync(key) ?? []];
        }
    }

    private async Task<string> PgDumpAsync()
    {
        var pgDump = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : 0)
                .Select(d => Path.Combine(d, "bin", "pg_dump"))
                .FirstOrDefault(File.Exists)
            : null;
        Assert.True(pgDump is not null, "pg_dump not found under /usr/lib/postgresql/*/bin (apt-get install -y postgresql-client)");

        var connection = new NpgsqlConnectionStringBuilder(fixture.App.GetConnectionString("sitdb"));
        var result = await ChildProcess.RunAsync(
            pgDump!,
            ["-h", connection.Host!, "-p", connection.Port.ToString(CultureInfo.InvariantCulture), "-U", connection.Username!, "-d", connection.Database!, "--no-password"],
            [new("PGPASSWORD", connection.Password ?? "")],
            TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, $"pg_dump failed: {result}");
        return result.Output;
    }

    /// <summary>Searches every regular file of the state folder, adding what it finds; answers the files searched.</summary>
    private async Task<IReadOnlyList<string>> ScanStateFolderAsync(PlaintextSearch search, List<string> findings)
    {
        var files = await RegularFilesAsync(fixture.App.StateDirectory);
        foreach (var file in files)
        {
            try
            {
                if (search.FindInFile(file) is { } inFile)
                {
                    findings.Add($"{file} holds the marker ({inFile})");
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A file removed while we looked (a rotated WAL segment, a temporary file).
            }
        }

        return files;
    }

    private static async Task<IReadOnlyList<string>> RegularFilesAsync(string folder)
    {
        // find -type f: regular files only, never a socket or FIFO a server keeps in its folder.
        // Its exit code is 1 when a file vanishes mid-walk (a rotated WAL segment): the list is still good.
        var result = await ChildProcess.RunAsync("find", [folder, "-type", "f"], [], TimeSpan.FromSeconds(30));
        var files = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(files.Length > 0, $"find listed nothing in {folder}: {result}");
        return files;
    }
}
