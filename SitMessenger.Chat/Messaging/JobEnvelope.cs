using System.Text.Json;
using System.Text.Json.Serialization;

namespace SitMessenger.Chat.Messaging;

/// <summary>
/// A unit of background work on RabbitMQ. It names what to do and to which chat; it never carries message content.
/// </summary>
public sealed record JobEnvelope(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("chat_id")] Guid? ChatId,
    [property: JsonPropertyName("attempt")] int Attempt,
    [property: JsonPropertyName("created")] DateTimeOffset Created)
{
    public static JobEnvelope Create(string type, Guid? chatId, TimeProvider time) =>
        new(Guid.CreateVersion7().ToString("N"), type, chatId, 1, time.GetUtcNow());

    public byte[] Serialize() => JsonSerializer.SerializeToUtf8Bytes(this, JobJsonContext.Default.JobEnvelope);

    /// <summary>Null when the body is not a job at all (a poison message).</summary>
    public static JobEnvelope? TryDeserialize(ReadOnlySpan<byte> body)
    {
        try
        {
            var job = JsonSerializer.Deserialize(body, JobJsonContext.Default.JobEnvelope);
            return job is { Id.Length: > 0, Type.Length: > 0 } ? job : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>The job types the Worker runs.</summary>
public static class JobTypes
{
    /// <summary>The recurring jobs the Scheduler runs by default, each under its type's name.</summary>
    public static readonly IReadOnlyList<string> Recurring = [SweepPending, DeleteExpiredTokens, RemoveOrphanSegments, CompactSegments];

    /// <summary>Move a chat's pending messages into a new segment file.</summary>
    public const string FlushChat = "flush-chat";

    /// <summary>Queue a flush for every chat with pending messages older than the flush delay (a lost flush job loses nothing).</summary>
    public const string SweepPending = "sweep-pending";

    public const string DeleteExpiredTokens = "delete-expired-tokens";

    /// <summary>Delete segment files no row points to, after a grace period.</summary>
    public const string RemoveOrphanSegments = "remove-orphan-segments";

    /// <summary>Merge each chat's run of small segments into one.</summary>
    public const string CompactSegments = "compact-segments";
}

[JsonSerializable(typeof(JobEnvelope))]
internal sealed partial class JobJsonContext : JsonSerializerContext;
