using System.Security.Cryptography;
using Npgsql;
using SitMessenger.Chat.Crypto;
using SitMessenger.Chat.Storage;
using SitMessenger.SystemTests.Api;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests.Storage;

/// <summary>
/// The rules of chat storage (<see cref="ChatStore"/>, <see cref="ChatSegmentCatalog"/>, <see cref="ChatFlush"/>) on
/// the suite's real PostgreSQL: sequence numbers, membership, and the flushed mark that splits pending rows from
/// segments. Storage does not read ciphertexts, so these chats hold random bytes; each test holds its chats' flush
/// lock while it looks, so the running Worker cannot move their rows underneath it.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class ChatStorageRulesTests(SitMessengerAppFixture fixture) : IAsyncLifetime
{
    private static readonly ChatCreationLimit NoLimit = new(int.MaxValue, TimeSpan.FromHours(1));

    // Users of their own, registered once per run: their chats hold bytes that are not messages, which no other
    // test's reads of its users' chats should meet.
    private static readonly Lock UsersGate = new();
    private static Task<Guid[]>? s_users;

    private NpgsqlDataSource _database = null!;
    private ChatStore _chats = null!;
    private ChatSegmentCatalog _segments = null!;
    private Guid _alice;
    private Guid _bob;
    private Guid _carol;

    public async Task InitializeAsync()
    {
        _database = NpgsqlDataSource.Create(await fixture.App.GetConnectionStringAsync("sitdb"));
        _chats = new ChatStore(_database);
        _segments = new ChatSegmentCatalog(_database);
        lock (UsersGate)
        {
            s_users ??= RegisterUsersAsync(new SitApiClient(fixture.Gateway));
        }

        var users = await s_users;
        (_alice, _bob, _carol) = (users[0], users[1], users[2]);
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task Sends_take_consecutive_sequence_numbers_and_read_back_pending_in_order()
    {
        var (chatId, flush) = await NewChatAsync(_alice, _bob);
        await using (flush)
        {
            var sent = new List<byte[]>();
            for (var i = 0; i < 5; i++)
            {
                var body = RandomNumberGenerator.GetBytes(40);
                var appended = await _chats.AppendAsync(chatId, i % 2 == 0 ? _alice : _bob, DateTime.UtcNow, body, default);
                Assert.NotNull(appended);
                Assert.Equal(i + 2, appended.Seq);
                sent.Add(body);
            }

            var chat = await _chats.FindForMemberAsync(chatId, _bob, default);
            Assert.Equal((6L, 0L), (chat!.LastSeq, chat.FlushedSeq));
            var pending = await _chats.ReadPendingAsync(chatId, 1, 6, default);
            Assert.Equal([2L, 3L, 4L, 5L, 6L], pending.Select(m => m.Seq));
            Assert.Equal(sent, pending.Select(m => m.Ciphertext));
        }
    }

    [Fact]
    public async Task A_send_by_a_non_member_stores_nothing_and_takes_no_sequence_number()
    {
        var (chatId, flush) = await NewChatAsync(_alice, _bob);
        await using (flush)
        {
            Assert.Null(await _chats.AppendAsync(chatId, _carol, DateTime.UtcNow, [1, 2, 3], default));
            Assert.Null(await _chats.FindForMemberAsync(chatId, _carol, default));
            Assert.Null(await _chats.AppendAsync(Guid.CreateVersion7(), _alice, DateTime.UtcNow, [1, 2, 3], default));

            var next = await _chats.AppendAsync(chatId, _alice, DateTime.UtcNow, [4, 5, 6], default);
            Assert.Equal(2, next!.Seq);
            Assert.Single(await _chats.ReadPendingAsync(chatId, 1, long.MaxValue, default));
        }
    }

    [Fact]
    public async Task A_recorded_flush_moves_the_pending_rows_into_one_segment_row_and_advances_the_mark()
    {
        var (chatId, flush) = await NewChatAsync(_alice, _bob);
        await using (flush)
        {
            await AppendAsync(chatId, 9);
            var batch = await flush.ReadNextAsync(4, default);
            Assert.Equal((1L, 4L, 0L), (batch!.FirstSeq, batch.LastSeq, batch.FlushedSeq));

            Assert.Equal(SegmentChange.Recorded, await flush.RecordAsync(batch, Segment(batch), default));

            var chat = await _chats.FindForMemberAsync(chatId, _alice, default);
            Assert.Equal((10L, 4L), (chat!.LastSeq, chat.FlushedSeq));
            Assert.Equal([5L, 6L, 7L, 8L, 9L, 10L], (await _chats.ReadPendingAsync(chatId, 0, 10, default)).Select(m => m.Seq));
            var covering = await _segments.CoveringAsync(chatId, 0, 10, default);
            Assert.Equal((1L, 4L), (covering.Single().FirstSeq, covering.Single().LastSeq));
            Assert.Empty(await _segments.CoveringAsync(chatId, 4, 10, default));

            var next = await flush.ReadNextAsync(100, default);
            Assert.Equal((5L, 10L, 4L), (next!.FirstSeq, next.LastSeq, next.FlushedSeq));
        }
    }

    [Fact]
    public async Task A_flush_recorded_against_a_mark_that_moved_changes_nothing()
    {
        var (chatId, flush) = await NewChatAsync(_alice, _bob);
        await using (flush)
        {
            await AppendAsync(chatId, 3);
            var batch = await flush.ReadNextAsync(100, default);
            Assert.Equal(SegmentChange.Recorded, await flush.RecordAsync(batch!, Segment(batch!), default));

            // The same batch again, as a Worker that read it before the first commit would record it.
            Assert.Equal(SegmentChange.Conflict, await flush.RecordAsync(batch!, Segment(batch!), default));

            Assert.Single(await _segments.ForChatAsync(chatId, default));
            Assert.Equal(4, (await _chats.FindForMemberAsync(chatId, _alice, default))!.FlushedSeq);
        }
    }

    [Fact]
    public async Task A_second_flush_of_a_chat_waits_its_turn()
    {
        var (chatId, flush) = await NewChatAsync(_alice, _bob);
        await using (flush)
        {
            Assert.Null(await _segments.TryBeginFlushAsync(chatId, default));
        }

        await using var after = await _segments.TryBeginFlushAsync(chatId, default);
        Assert.NotNull(after);
    }

    [Fact]
    public async Task A_flush_of_a_chat_whose_last_member_left_meanwhile_is_refused()
    {
        var (chatId, flush) = await NewChatAsync(_alice, _bob);
        await using (flush)
        {
            await AppendAsync(chatId, 2);
            var batch = await flush.ReadNextAsync(100, default);
            Assert.False((await _chats.LeaveAsync(chatId, _alice, DateTime.UtcNow, [7], default))!.ChatDeleted);
            Assert.True((await _chats.LeaveAsync(chatId, _bob, DateTime.UtcNow, [8], default))!.ChatDeleted);

            Assert.Equal(SegmentChange.ChatDeleted, await flush.RecordAsync(batch!, Segment(batch!), default));
            Assert.Null(await flush.ReadNextAsync(100, default));
        }
    }

    [Fact]
    public async Task Compaction_replaces_its_segments_only_while_every_one_of_them_is_still_there()
    {
        var (chatId, flush) = await NewChatAsync(_alice, _bob);
        await using (flush)
        {
            await AppendAsync(chatId, 5);
            for (var i = 0; i < 3; i++)
            {
                var batch = await flush.ReadNextAsync(2, default);
                Assert.Equal(SegmentChange.Recorded, await flush.RecordAsync(batch!, Segment(batch!), default));
            }

            var small = await _segments.ForChatAsync(chatId, default);
            Assert.Equal([(1L, 2L), (3L, 4L), (5L, 6L)], small.Select(s => (s.FirstSeq, s.LastSeq)));
            var merged = new NewSegment(1, 6, $"test/{Guid.NewGuid():N}", "test", RandomNumberGenerator.GetBytes(32), DateTimeOffset.UtcNow);

            Assert.Equal(SegmentChange.Recorded, await _segments.ReplaceAsync(chatId, small, merged, default));
            Assert.Equal(SegmentChange.Conflict, await _segments.ReplaceAsync(chatId, small, merged with { Location = $"test/{Guid.NewGuid():N}" }, default));

            var now = await _segments.ForChatAsync(chatId, default);
            Assert.Equal((1L, 6L, merged.Location), (now.Single().FirstSeq, now.Single().LastSeq, now.Single().Location));
            Assert.Equal([merged.Location], await _segments.ReferencedAsync([merged.Location, small[0].Location], default));
        }
    }

    [Fact]
    public async Task The_sweep_finds_a_chat_by_its_oldest_pending_message()
    {
        var (chatId, flush) = await NewChatAsync(_alice, _bob);
        var (freshId, freshFlush) = await NewChatAsync(_alice, _carol);
        await using (flush)
        await using (freshFlush)
        {
            var cutoff = DateTimeOffset.UtcNow - TimeSpan.FromMinutes(5);
            await _chats.AppendAsync(chatId, _bob, cutoff.UtcDateTime - TimeSpan.FromMinutes(1), [1], default);

            var overdue = await _chats.ChatsPendingSinceAsync(cutoff, 10_000, default);
            Assert.Contains(chatId, overdue);
            Assert.DoesNotContain(freshId, overdue);
        }
    }

    [Fact]
    public async Task A_send_reads_the_members_only_when_their_list_changed_since_the_version_held()
    {
        var (chatId, flush) = await NewChatAsync(_alice, _bob, _carol);
        await using (flush)
        {
            var first = await _chats.AppendAsync(chatId, _alice, DateTime.UtcNow, [1], default, ChatStore.NoMembersHeld);
            Assert.Equal(new HashSet<Guid> { _alice, _bob, _carol }, first!.Members!.Select(m => m.Id).ToHashSet());

            var unchanged = await _chats.AppendAsync(chatId, _bob, DateTime.UtcNow, [2], default, first.MembersVersion);
            Assert.Equal(first.MembersVersion, unchanged!.MembersVersion);
            Assert.Null(unchanged.Members);

            Assert.NotNull(await _chats.LeaveAsync(chatId, _carol, DateTime.UtcNow, [3], default));
            var changed = await _chats.AppendAsync(chatId, _alice, DateTime.UtcNow, [4], default, first.MembersVersion);
            Assert.NotEqual(first.MembersVersion, changed!.MembersVersion);
            Assert.Equal(new HashSet<Guid> { _alice, _bob }, changed.Members!.Select(m => m.Id).ToHashSet());

            var withoutMembers = await _chats.AppendAsync(chatId, _alice, DateTime.UtcNow, [5], default);
            Assert.Null(withoutMembers!.Members);
            Assert.Equal(changed.MembersVersion, withoutMembers.MembersVersion);
        }
    }

    private static async Task<Guid[]> RegisterUsersAsync(SitApiClient api)
    {
        var users = new List<Guid>();
        foreach (var role in new[] { "alice", "bob", "carol" })
        {
            users.Add(Guid.Parse((await api.CreateUserAsync("storage_" + role)).Id));
        }

        return [.. users];
    }

    /// <summary>A chat of the given members with its first line pending, and its flush lock.</summary>
    private async Task<(Guid ChatId, ChatFlush Flush)> NewChatAsync(params Guid[] members)
    {
        var chatId = Guid.CreateVersion7();
        var created = await _chats.CreateAsync(
            chatId, members[0], members, new WrappedDataKey("test", RandomNumberGenerator.GetBytes(60)), DateTime.UtcNow, [0], NoLimit, default);
        Assert.NotNull(created.Chat);
        var flush = await _segments.TryBeginFlushAsync(chatId, default);
        Assert.NotNull(flush);
        return (chatId, flush);
    }

    private async Task AppendAsync(Guid chatId, int count)
    {
        for (var i = 0; i < count; i++)
        {
            Assert.NotNull(await _chats.AppendAsync(chatId, _alice, DateTime.UtcNow, RandomNumberGenerator.GetBytes(16), default));
        }
    }

    private static NewSegment Segment(PendingBatch batch) =>
        new(batch.FirstSeq, batch.LastSeq, $"test/{Guid.NewGuid():N}", batch.KeyId, RandomNumberGenerator.GetBytes(32), DateTimeOffset.UtcNow);
}
