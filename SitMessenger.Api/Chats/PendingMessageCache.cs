using System.Buffers.Binary;
using SitMessenger.Chat.Messages;
using StackExchange.Redis;

namespace SitMessenger.Api.Chats;

/// <summary>
/// Recent pending messages of each chat in Redis, as ciphertext only, for reads that skip PostgreSQL. It is a cache:
/// writes are fire-and-forget, and a read uses it only when it holds every message asked for, else PostgreSQL.
/// </summary>
internal sealed class PendingMessageCache(IConnectionMultiplexer redis)
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromDays(2);

    private static RedisKey Key(Guid chatId) => ChatCacheKeys.Pending(chatId);

    public void Add(Guid chatId, EncryptedMessage message) => Add(chatId, [message]);

    public void Add(Guid chatId, IReadOnlyCollection<EncryptedMessage> messages)
    {
        if (!redis.IsConnected || messages.Count == 0)
        {
            return;
        }

        var db = redis.GetDatabase();
        var entries = messages.Select(m => new SortedSetEntry(Encode(m), m.Seq)).ToArray();
        db.SortedSetAdd(Key(chatId), entries, CommandFlags.FireAndForget);
        db.KeyExpire(Key(chatId), Lifetime, CommandFlags.FireAndForget);
    }

    /// <summary>Messages with afterSeq &lt; seq &lt;= toSeq if the cache holds all of them, else null.</summary>
    public async Task<IReadOnlyList<EncryptedMessage>?> TryReadAsync(Guid chatId, long afterSeq, long toSeq)
    {
        if (!redis.IsConnected || toSeq <= afterSeq)
        {
            return toSeq <= afterSeq ? [] : null;
        }

        try
        {
            var values = await redis.GetDatabase().SortedSetRangeByScoreAsync(Key(chatId), afterSeq, toSeq, Exclude.Start);
            if (values.Length != toSeq - afterSeq)
            {
                return null;
            }

            return [.. values.Select(v => Decode(v!))];
        }
        catch (RedisException)
        {
            return null;
        }
    }

    public void Forget(Guid chatId)
    {
        if (redis.IsConnected)
        {
            redis.GetDatabase().KeyDelete(Key(chatId), CommandFlags.FireAndForget);
        }
    }

    // The sequence number leads each member so that two identical ciphertexts could never collapse into one entry.
    private static byte[] Encode(EncryptedMessage message)
    {
        var value = new byte[8 + message.Ciphertext.Length];
        BinaryPrimitives.WriteInt64BigEndian(value, message.Seq);
        message.Ciphertext.CopyTo(value, 8);
        return value;
    }

    private static EncryptedMessage Decode(byte[] value) =>
        new(BinaryPrimitives.ReadInt64BigEndian(value), value[8..]);
}
