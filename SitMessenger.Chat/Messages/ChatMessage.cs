using System.Text.Json.Serialization;

namespace SitMessenger.Chat.Messages;

/// <summary>
/// One line of a chat as it is encrypted: when, who (the sender's username, "" for the chat's own first line), what.
/// The whole record is the plaintext of one Fernet token, so storage and the Worker see no metadata beyond order.
/// </summary>
public sealed record ChatMessage(
    [property: JsonPropertyName("t")] DateTime Datetime,
    [property: JsonPropertyName("u")] string User,
    [property: JsonPropertyName("m")] string Message)
{
    /// <summary>The first line of every chat, as the original wrote it.</summary>
    public static ChatMessage Beginning(DateTime created) => new(created, "", "Beginning of messages");
}

/// <summary>A stored message: its place in the chat and its ciphertext (a Fernet token).</summary>
public sealed record EncryptedMessage(long Seq, byte[] Ciphertext);

[JsonSerializable(typeof(ChatMessage))]
internal sealed partial class ChatMessageJsonContext : JsonSerializerContext;
