using System.Globalization;
using System.Net;
using Npgsql;
using SitMessenger.SystemTests.Api;
using SitMessenger.SystemTests.Infrastructure;
using SitMessenger.Testing.Django;
using StackExchange.Redis;

namespace SitMessenger.SystemTests.Import;

/// <summary>
/// The move from the Django version: a Django-shaped installation (its tables in a database of its own on the
/// system's PostgreSQL, Fernet-encrypted Python-literal chat files on disk, pickled unflushed messages in Redis
/// database 1) imported by the MigrationService's <c>import-django</c>, then used through the Gateway.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class DjangoImportTests(SitMessengerAppFixture fixture)
{
    // Texts the original's repr writes in every way it can: quotes of both kinds, backslashes, escapes, non-ASCII.
    private static readonly string[] Texts =
    [
        "it's a test", "say \"hi\"", "both ' and \"", @"back\slash and \n that is not a newline", "line one\nline two\ttabbed\r\n",
        "zażółć gęślą jaźń", "日本語のテキスト", "emoji 😀👍🏽", "zero\u200bwidth and\u00a0no-break space", "bell \a and \u0001 control \u007f",
        "'}, {'datetime': 'injected', 'user': 'x', 'message': 'y'}, {'", new string('x', 3750), "",
    ];

    private readonly SitApiClient _api = new(fixture.Gateway);
    private readonly DjangoImportRunner _import = new(fixture.App);

    [Fact]
    public async Task An_old_django_password_logs_in_and_is_rehashed_and_every_chat_reads_back_exactly()
    {
        await using var source = await DjangoInstallation.CreateAsync(fixture.App.GetConnectionString("sitdb"));
        var people = await AddPeopleAsync(source);
        var (root, zbigniew, zaneta, inactive) = (people[0], people[1], people[2], people[3]);
        var redis = await RedisAsync();
        var start = DateTime.UtcNow.AddDays(-30);
        var pair = Chat(start, [root, zbigniew], Texts.Length, cached: 3);
        // A flush killed between writing the file and deleting the cache entry: its first cached line is in the file too.
        pair = pair with { CachedLines = [pair.FileLines[^1], .. pair.CachedLines] };
        var group = Chat(start.AddDays(1), [root, zbigniew, zaneta], 40, cached: 0);
        var chats = new[] { pair, group };
        try
        {
            foreach (var chat in chats)
            {
                await source.AddChatAsync(chat, redis);
            }

            var run = await _import.RunAsync(source);
            Assert.True(run.ExitCode == 0, $"the import failed: {run}");
            Assert.Contains("chats:    2 imported", run.Output, StringComparison.Ordinal);
            Assert.Contains("1 cached duplicate(s)", run.Output, StringComparison.Ordinal);
            Assert.Contains("msg/s", run.Output, StringComparison.Ordinal);

            // The old password works once as Django's hash, which the login then replaces with ours; it keeps working.
            Assert.StartsWith(DjangoPasswordPrefix, await PasswordHashAsync(root.Id), StringComparison.Ordinal);
            var tokens = await _api.LoginTokensAsync(root.Username, root.Password);
            Assert.DoesNotContain("pbkdf2_sha256$", await PasswordHashAsync(root.Id), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, (await _api.LoginAsync(root.Username, root.Password)).Status);
            Assert.Equal(HttpStatusCode.Unauthorized, (await _api.LoginAsync(zbigniew.Username, "not-" + zbigniew.Password)).Status);
            Assert.Equal(HttpStatusCode.Unauthorized, (await _api.LoginAsync(inactive.Username, inactive.Password)).Status);
            var rootUser = new TestUser(root.Id.ToString(), root.Username, root.Password, tokens);
            var zanetaUser = new TestUser(zaneta.Id.ToString(), zaneta.Username, zaneta.Password, await _api.LoginTokensAsync(zaneta.Username, zaneta.Password));

            // Every line, in order, each once: the file's, then the cache's.
            AssertLines(pair.FileLines.Concat(pair.CachedLines.Skip(1)), await _api.ReadLinesAsync(rootUser, pair.Id.ToString()));
            AssertLines(group.FileLines, await _api.ReadLinesAsync(zanetaUser, group.Id.ToString()));
            ApiAssert.Status(HttpStatusCode.NotFound, await _api.GetChatAsync(zanetaUser, pair.Id.ToString()));

            var me = await _api.GetAsync("/api/auth/users/me/", rootUser.Access);
            Assert.Equal(root.Email, me.Body.GetProperty("email").GetString());
            var friends = await _api.GetAsync("/api/v1/friends/", rootUser.Access);
            Assert.Equal([zbigniew.Id.ToString()], friends.Body.EnumerateArray().Select(f => f.GetProperty("id").GetString()));
            var list = await _api.GetAsync("/api/v1/chat/", zanetaUser.Access);
            var listed = Assert.Single(list.Body.EnumerateArray());
            Assert.Equal(group.Created, listed.GetProperty("created").GetDateTime().ToUniversalTime());
            Assert.Equal(group.Updated, listed.GetProperty("updated").GetDateTime().ToUniversalTime());

            // Django moved updated only at flushes: a chat whose cache held later messages is as new as the last of them.
            var pairListed = (await _api.GetAsync("/api/v1/chat/", rootUser.Access)).Body.EnumerateArray().Single(c => c.GetProperty("id").GetString() == pair.Id.ToString());
            Assert.Equal(
                DateTimeOffset.Parse(pair.CachedLines[^1].Datetime, CultureInfo.InvariantCulture).UtcDateTime,
                pairListed.GetProperty("updated").GetDateTime().ToUniversalTime());
        }
        finally
        {
            await ForgetCacheAsync(redis, chats);
        }
    }

    [Fact]
    public async Task A_second_import_changes_nothing_and_says_so()
    {
        await using var source = await DjangoInstallation.CreateAsync(fixture.App.GetConnectionString("sitdb"));
        var people = await AddPeopleAsync(source);
        var chat = Chat(DateTime.UtcNow.AddDays(-3), [people[0], people[1]], 20, cached: 0);
        await source.AddChatAsync(chat);

        var first = await _import.RunAsync(source, withRedis: false);
        Assert.True(first.ExitCode == 0, $"the first import failed: {first}");
        var before = await ChatStatesAsync([chat.Id]);

        var second = await _import.RunAsync(source, withRedis: false);
        Assert.True(second.ExitCode == 0, $"the second import failed: {second}");
        Assert.Contains("Nothing changed: everything was already imported.", second.Output, StringComparison.Ordinal);
        Assert.Contains("0 added, 4 already there", second.Output, StringComparison.Ordinal);
        Assert.Contains("chats:    0 imported, 1 already there", second.Output, StringComparison.Ordinal);
        Assert.Equal(before, await ChatStatesAsync([chat.Id]));
    }

    [Fact]
    public async Task An_import_killed_midway_and_run_again_loses_and_doubles_nothing()
    {
        await using var source = await DjangoInstallation.CreateAsync(fixture.App.GetConnectionString("sitdb"));
        var people = await AddPeopleAsync(source);
        var redis = await RedisAsync();
        var start = DateTime.UtcNow.AddDays(-60);
        var chats = Enumerable.Range(0, 300)
            .Select(i => Chat(start.AddMinutes(i), [people[i % 2], people[2]], 150 + (i % 7), cached: i % 3 == 0 ? 5 : 0))
            .ToList();
        try
        {
            await using (var connection = new NpgsqlConnection(source.ConnectionString))
            {
                await connection.OpenAsync();
                foreach (var chat in chats)
                {
                    await source.AddChatAsync(chat, redis, connection: connection);
                }
            }

            var ids = chats.Select(c => c.Id).ToArray();
            using (var import = await _import.StartAsync(source, "--parallelism", "1"))
            {
                using var deadline = new CancellationTokenSource(DjangoImportRunner.Budget);
                while ((await ChatStatesAsync(ids)).Count < 10 && !import.HasExited)
                {
                    await Task.Delay(20, deadline.Token);
                }

                Assert.False(import.HasExited, "the import finished before it could be killed: make the installation bigger");
                import.Kill(entireProcessTree: true);
                await import.WaitForExitAsync(deadline.Token);
            }

            var afterKill = await ChatStatesAsync(ids);
            Assert.InRange(afterKill.Count, 10, chats.Count - 1);
            AssertComplete(chats, afterKill);

            var rerun = await _import.RunAsync(source);
            Assert.True(rerun.ExitCode == 0, $"the rerun failed: {rerun}");
            Assert.Contains($"{afterKill.Count} already there", rerun.Output, StringComparison.Ordinal);
            var final = await ChatStatesAsync(ids);
            Assert.Equal(chats.Count, final.Count);
            AssertComplete(chats, final);

            // Two chats read back exactly through the Gateway: one done before the kill, one after.
            var user = new TestUser(people[0].Id.ToString(), people[0].Username, people[0].Password, await _api.LoginTokensAsync(people[0].Username, people[0].Password));
            foreach (var chat in new[] { chats.First(c => afterKill.ContainsKey(c.Id) && c.Owners.Contains(people[0].Id)), chats.Last(c => !afterKill.ContainsKey(c.Id) && c.Owners.Contains(people[0].Id)) })
            {
                AssertLines(chat.AllLines, await ReadAllLinesAsync(user, chat.Id));
            }
        }
        finally
        {
            await ForgetCacheAsync(redis, chats);
        }
    }

    [Fact]
    public async Task A_corrupt_file_and_a_wrong_key_are_reported_and_skipped_with_nothing_half_imported()
    {
        await using var source = await DjangoInstallation.CreateAsync(fixture.App.GetConnectionString("sitdb"));
        var people = await AddPeopleAsync(source);
        var start = DateTime.UtcNow.AddDays(-10);
        var good = Chat(start, [people[0], people[1]], 10, cached: 0);
        var corrupt = Chat(start.AddHours(1), [people[0], people[1]], 10, cached: 0);
        var wrongKey = Chat(start.AddHours(2), [people[0], people[2]], 10, cached: 0);
        await source.AddChatAsync(good);
        var corruptPath = await source.AddChatAsync(corrupt);
        var bytes = await File.ReadAllBytesAsync(corruptPath);
        await File.WriteAllBytesAsync(corruptPath, bytes[..(bytes.Length / 2)]);
        await source.AddChatAsync(wrongKey, keyInDatabase: SitMessenger.Chat.Crypto.Fernet.GenerateKey());

        var run = await _import.RunAsync(source, withRedis: false);
        Assert.True(run.ExitCode == 1, $"the import should end with 1 for failed chats: {run}");
        Assert.Contains($"error: chat {corrupt.Id}: corrupt token", run.Output, StringComparison.Ordinal);
        Assert.Contains($"error: chat {wrongKey.Id}: wrong key", run.Output, StringComparison.Ordinal);
        Assert.Contains("2 chat(s) could not be imported", run.Output, StringComparison.Ordinal);

        var states = await ChatStatesAsync([good.Id, corrupt.Id, wrongKey.Id]);
        Assert.Equal([good.Id], states.Keys);
        AssertComplete([good], states);
        await using var connection = new NpgsqlConnection(fixture.App.GetConnectionString("sitdb"));
        await connection.OpenAsync();
        await using var leftovers = new NpgsqlCommand(
            "SELECT (SELECT count(*) FROM pending_messages WHERE chat_id = ANY(@ids)) + (SELECT count(*) FROM chat_members WHERE chat_id = ANY(@ids))", connection);
        leftovers.Parameters.AddWithValue("ids", new[] { corrupt.Id, wrongKey.Id });
        Assert.Equal(0L, await leftovers.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_username_clash_with_an_existing_account_stops_the_import_before_anything_is_written()
    {
        await using var source = await DjangoInstallation.CreateAsync(fixture.App.GetConnectionString("sitdb"));
        var existing = await _api.CreateUserAsync("clash");
        var people = await AddPeopleAsync(source, extra: new DjangoAccount(Guid.NewGuid(), existing.Username.ToUpperInvariant(), "", "Old-Pass-" + Guid.NewGuid()));
        await source.AddChatAsync(Chat(DateTime.UtcNow.AddDays(-1), [people[0], people[1]], 5, cached: 0));

        var run = await _import.RunAsync(source, withRedis: false);
        Assert.True(run.ExitCode == 3, $"the import should end with 3 for a clash: {run}");
        Assert.Contains($"username clash: Django user '{existing.Username.ToUpperInvariant()}'", run.Output, StringComparison.Ordinal);
        Assert.Contains("nothing was written", run.Output, StringComparison.Ordinal);
        Assert.Equal(0L, await CountUsersAsync(people.Select(p => p.Id)));
    }

    [Fact]
    public async Task A_dry_run_reports_what_it_would_import_and_writes_nothing()
    {
        await using var source = await DjangoInstallation.CreateAsync(fixture.App.GetConnectionString("sitdb"));
        var people = await AddPeopleAsync(source);
        var chat = Chat(DateTime.UtcNow.AddDays(-2), [people[0], people[1]], 25, cached: 0);
        await source.AddChatAsync(chat);

        var run = await _import.RunAsync(source, false, "--dry-run");
        Assert.True(run.ExitCode == 0, $"the dry run failed: {run}");
        Assert.Contains("Summary (dry run: nothing was written):", run.Output, StringComparison.Ordinal);
        Assert.Contains("4 would be added", run.Output, StringComparison.Ordinal);
        Assert.Contains("chats:    1 would be imported", run.Output, StringComparison.Ordinal);
        Assert.Contains("messages: 25 would be imported", run.Output, StringComparison.Ordinal);
        Assert.Equal(0L, await CountUsersAsync(people.Select(p => p.Id)));
        Assert.Empty(await ChatStatesAsync([chat.Id]));
    }

    private const string DjangoPasswordPrefix = "pbkdf2_sha256$";

    /// <summary>root, zbigniew, żaneta (a non-ASCII name) and an inactive user; root and zbigniew are friends.</summary>
    private static async Task<IReadOnlyList<DjangoAccount>> AddPeopleAsync(DjangoInstallation source, DjangoAccount? extra = null)
    {
        var tag = Guid.NewGuid().ToString("N")[..10];
        List<DjangoAccount> people =
        [
            new(Guid.NewGuid(), $"dj_root_{tag}", $"root_{tag}@example.org", "Old-Django-Pass-1"),
            new(Guid.NewGuid(), $"dj_Zbigniew_{tag}", "", "Old-Django-Pass-2"),
            new(Guid.NewGuid(), $"dj_żaneta_{tag}", "", "Old-Django-Pass-3 ąę"),
            new(Guid.NewGuid(), $"dj_gone_{tag}", "", "Old-Django-Pass-4", IsActive: false),
        ];
        if (extra is not null)
        {
            people.Add(extra);
        }

        // Fewer PBKDF2 rounds than Django's 216,000 keep the test fast; the count is read from each hash anyway.
        await source.AddUsersAsync(people, [(people[0].Id, people[1].Id)], iterations: 20_000);
        return people;
    }

    private static DjangoChatData Chat(DateTime start, IReadOnlyList<DjangoAccount> owners, int lines, int cached)
    {
        var id = Guid.NewGuid();
        // PostgreSQL (and Django's isoformat) keep microseconds.
        start = new DateTime(start.Ticks - (start.Ticks % 10), DateTimeKind.Utc);
        var time = start.AddTicks(123_456_0);
        var file = new List<DjangoLine> { new(DjangoInstallation.IsoFormat(time), "", "Beginning of messages") };
        for (var i = 1; i < lines; i++)
        {
            // Every third time has no microseconds, which isoformat() leaves out.
            time = time.AddSeconds(7).AddTicks(i % 3 == 0 ? -(time.Ticks % TimeSpan.TicksPerSecond) : 10 * i);
            file.Add(new DjangoLine(DjangoInstallation.IsoFormat(time), owners[i % owners.Count].Username, Texts[i % Texts.Length] + (i >= Texts.Length ? $" #{i}" : "")));
        }

        var cache = Enumerable.Range(0, cached)
            .Select(i => new DjangoLine(DjangoInstallation.IsoFormat(time.AddMinutes(i + 1)), owners[i % owners.Count].Username, $"still in the cache {i}: {Texts[i % Texts.Length]}"))
            .ToList();
        return new DjangoChatData(id, start, time, [.. owners.Select(o => o.Id)], file, cache, $"{owners[0].Username}-AND-{id:N}.txt");
    }

    private static void AssertLines(IEnumerable<DjangoLine> expected, IReadOnlyList<ChatLine> actual)
    {
        var wanted = expected.ToList();
        Assert.Equal(wanted.Select(l => (l.User, l.Message)), actual.Select(l => (l.User, l.Message)));
        Assert.Equal(
            wanted.Select(l => DateTimeOffset.Parse(l.Datetime, CultureInfo.InvariantCulture).UtcDateTime),
            actual.Select(l => DateTimeOffset.Parse(l.Datetime, CultureInfo.InvariantCulture).UtcDateTime));
    }

    /// <summary>Every line of a chat, paging back through <c>/messages/?before=</c> past the detail's window.</summary>
    private async Task<IReadOnlyList<ChatLine>> ReadAllLinesAsync(TestUser user, Guid chatId)
    {
        var lines = new List<ChatLine>();
        long? before = null;
        while (true)
        {
            var page = await _api.GetAsync($"{SitApiClient.MessagesPath(chatId.ToString())}?limit=100{(before is { } b ? $"&before={b}" : "")}", user.Access);
            ApiAssert.Status(HttpStatusCode.OK, page);
            var messages = page.Body.ValueKind == JsonValueKindArray ? page.Body : page.Body.GetProperty("messages");
            var batch = messages.EnumerateArray().ToList();
            if (batch.Count == 0)
            {
                break;
            }

            lines.InsertRange(0, batch.Select(SitApiClient.Line));
            before = batch.Min(m => m.GetProperty("seq").GetInt64());
            if (before <= 1)
            {
                break;
            }
        }

        return lines;
    }

    private const System.Text.Json.JsonValueKind JsonValueKindArray = System.Text.Json.JsonValueKind.Array;

    private static void AssertComplete(IReadOnlyList<DjangoChatData> chats, IReadOnlyDictionary<Guid, ChatState> states)
    {
        foreach (var (id, state) in states)
        {
            var chat = chats.Single(c => c.Id == id);
            var expected = chat.AllLines.Count();
            Assert.True(state == new ChatState(expected, expected, chat.Owners.Count), $"chat {id}: {state}, expected {expected} messages and {chat.Owners.Count} members");
        }
    }

    /// <summary>One chat in the target: last_seq, messages held (pending rows plus segment ranges, in one snapshot), members.</summary>
    private sealed record ChatState(long LastSeq, long Messages, long Members);

    private async Task<IReadOnlyDictionary<Guid, ChatState>> ChatStatesAsync(Guid[] ids)
    {
        await using var connection = new NpgsqlConnection(fixture.App.GetConnectionString("sitdb"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT c.id, c.last_seq,
                   (SELECT count(*) FROM pending_messages p WHERE p.chat_id = c.id)
                 + (SELECT coalesce(sum(s.last_seq - s.first_seq + 1), 0) FROM chat_segments s WHERE s.chat_id = c.id),
                   (SELECT count(*) FROM chat_members m WHERE m.chat_id = c.id)
            FROM chats c WHERE c.id = ANY(@ids)
            """, connection);
        command.Parameters.AddWithValue("ids", ids);
        var states = new Dictionary<Guid, ChatState>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            states[reader.GetGuid(0)] = new ChatState(reader.GetInt64(1), Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture), reader.GetInt64(3));
        }

        return states;
    }

    private async Task<string> PasswordHashAsync(Guid userId)
    {
        await using var connection = new NpgsqlConnection(fixture.App.GetConnectionString("sitdb"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT password_hash FROM users WHERE id = @id", connection);
        command.Parameters.AddWithValue("id", userId);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private async Task<long> CountUsersAsync(IEnumerable<Guid> ids)
    {
        await using var connection = new NpgsqlConnection(fixture.App.GetConnectionString("sitdb"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM users WHERE id = ANY(@ids)", connection);
        command.Parameters.AddWithValue("ids", ids.ToArray());
        return (long)(await command.ExecuteScalarAsync())!;
    }

    // The original's cache was database 1 of its own Redis; the system's Redis plays it here, in database 1.
    private async Task<IDatabase> RedisAsync() => (await ConnectionMultiplexer.ConnectAsync(fixture.App.GetConnectionString("cache"))).GetDatabase(1);

    // The test's plaintext must not stay in the system's Redis after it (the operator's wipe, in short).
    private static async Task ForgetCacheAsync(IDatabase redis, IEnumerable<DjangoChatData> chats)
    {
        foreach (var chat in chats)
        {
            await redis.KeyDeleteAsync(DjangoInstallation.CacheKey(chat.Id));
        }

        await redis.Multiplexer.DisposeAsync();
    }
}
