using StackExchange.Redis;

namespace SitMessenger.MigrationService.DjangoImport;

/// <summary>
/// The original's unflushed messages: <c>ChatData.add_message</c> kept them under Django's cache key
/// <c>messages.&lt;chat id&gt;</c> until the Celery task 20 s later wrote them into the file. Through django-redis that is
/// the Redis key <c>&lt;KEY_PREFIX&gt;:&lt;VERSION&gt;:messages.&lt;chat id&gt;</c> (<c>:1:messages.…</c> with the original's
/// settings) in database 1, holding a pickle of <c>{'messages': [...]}</c>. Only read: the operator wipes it afterwards.
/// </summary>
internal sealed class DjangoCache(IDatabase redis, string keyPrefix, int version) : IAsyncDisposable
{
    public static async Task<DjangoCache> ConnectAsync(DjangoImportOptions options)
    {
        var configuration = ConfigurationOptions.Parse(options.Redis);
        configuration.AbortOnConnectFail = true;
        var connection = await ConnectionMultiplexer.ConnectAsync(configuration);
        return new DjangoCache(connection.GetDatabase(options.RedisDatabase), options.CacheKeyPrefix, options.CacheVersion);
    }

    public static string Key(string prefix, int version, Guid chatId) => $"{prefix}:{version}:messages.{chatId:D}";

    public string KeyOf(Guid chatId) => Key(keyPrefix, version, chatId);

    /// <summary>The pickled entry of the chat, or null when it has none (everything was flushed into its file).</summary>
    public async Task<byte[]?> ReadAsync(Guid chatId) => await redis.StringGetAsync(KeyOf(chatId)) is { HasValue: true } value ? (byte[]?)value : null;

    public async ValueTask DisposeAsync() => await redis.Multiplexer.DisposeAsync();
}
