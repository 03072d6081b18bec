using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using SitMessenger.Chat.Accounts;
using SitMessenger.Api.Apis;
using SitMessenger.Api.Chats;

namespace SitMessenger.UnitTests.Api;

/// <summary>
/// PATCH /api/v1/chat/{id}/ after its message committed: the read-back is the seam here, failing the way an outage
/// makes it fail. Whatever it does, the answer is the send's success and holds the new message.
/// </summary>
public sealed class SentChatAnswerTests
{
    private static readonly Guid ChatId = Guid.CreateVersion7();
    private static readonly UserSummary Sender = new(Guid.CreateVersion7(), "sender");
    private static readonly DateTime Created = new(2026, 12, 2, 20, 0, 0, DateTimeKind.Utc);
    private static readonly SendReceipt Sent = new(ChatId, new SentMessage(7, Created.AddMinutes(5), "sender", "hello after the commit"), Created, 0, null, new byte[32]);

    private readonly SentChatAnswer _answer = new(NullLogger<SentChatAnswer>.Instance);

    [Fact]
    public async Task A_read_back_that_fails_after_the_commit_answers_the_chat_with_the_new_message()
    {
        // What Npgsql throws when PostgreSQL is killed mid-request: the exception DrfExceptionHandler maps to 503.
        var outage = new NpgsqlException("Exception while reading from stream", new SocketException((int)SocketError.ConnectionReset));

        var chat = await _answer.ComposeAsync(ChatId, Sender, Sent, _ => throw outage, CancellationToken.None);

        Assert.Equal(ChatId, chat.Id);
        Assert.Equal(Created, chat.Created);
        Assert.Equal(Sent.Message.Datetime, chat.Updated);
        Assert.Equal([Sender], chat.Owner);
        Assert.Empty(chat.MessageData.Messages);
        Assert.Equal([new MessageResponse(Sent.Message.Datetime, "sender", "hello after the commit")], chat.CacheMessages.Messages);
    }

    [Fact]
    public async Task A_read_back_that_fails_asynchronously_also_answers_the_new_message()
    {
        async Task<ChatDetailResponse?> FailingAsync(CancellationToken cancellationToken)
        {
            await Task.Yield();
            throw new TimeoutException("Timeout during reading attempt");
        }

        var chat = await _answer.ComposeAsync(ChatId, Sender, Sent, FailingAsync, CancellationToken.None);

        Assert.Equal("hello after the commit", Assert.Single(chat.CacheMessages.Messages).Message);
    }

    [Fact]
    public async Task A_sender_who_left_between_the_send_and_the_read_back_still_gets_the_send_answered()
    {
        var chat = await _answer.ComposeAsync(ChatId, Sender, Sent, _ => Task.FromResult<ChatDetailResponse?>(null), CancellationToken.None);

        Assert.Equal("hello after the commit", Assert.Single(chat.CacheMessages.Messages).Message);
    }

    [Fact]
    public async Task A_read_back_that_works_is_the_answer()
    {
        var other = new UserSummary(Guid.CreateVersion7(), "other");
        var whole = new ChatDetailResponse(
            ChatId, Created, Sent.Message.Datetime, [other, Sender],
            new MessageListResponse([new MessageResponse(Created, "", "Beginning of messages")]),
            new MessageListResponse([MessageResponse.From(Sent.Message)]));

        var chat = await _answer.ComposeAsync(ChatId, Sender, Sent, _ => Task.FromResult<ChatDetailResponse?>(whole), CancellationToken.None);

        Assert.Same(whole, chat);
    }
}
