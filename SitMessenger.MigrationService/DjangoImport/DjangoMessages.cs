using System.Globalization;
using SitMessenger.Chat.Messages;

namespace SitMessenger.MigrationService.DjangoImport;

/// <summary>
/// The original's message lists, <c>{'messages': [{'datetime': iso, 'user': username, 'message': text}, ...]}</c>, as
/// its chat files (a Python literal) and its cache entries (a pickle) both hold them, turned into this project's lines.
/// </summary>
internal static class DjangoMessages
{
    private static readonly string[] Fields = ["datetime", "user", "message"];

    /// <exception cref="FormatException">Not that shape; the message says what is wrong, never a message's text.</exception>
    public static IReadOnlyList<ChatMessage> From(object value)
    {
        if (value is not Dictionary<string, object> root || root.Count != 1 || !root.TryGetValue("messages", out var messages))
        {
            throw new FormatException("expected a dict with the one key 'messages'");
        }

        if (messages is not List<object> list)
        {
            throw new FormatException("'messages' is not a list");
        }

        var lines = new List<ChatMessage>(list.Count);
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] is not Dictionary<string, object> message || message.Count != Fields.Length
                || message.GetValueOrDefault("datetime") is not string datetime
                || message.GetValueOrDefault("user") is not string user
                || message.GetValueOrDefault("message") is not string text)
            {
                throw new FormatException($"message {i + 1} is not a dict of exactly 'datetime', 'user' and 'message', each a str");
            }

            lines.Add(new ChatMessage(ParseTime(datetime, i), user, text));
        }

        return lines;
    }

    /// <summary>
    /// <c>datetime.now(pytz.utc).isoformat()</c>: <c>2021-03-20T06:49:51.123456+00:00</c>, the fraction left out when
    /// it is zero. Kept to the microsecond, as PostgreSQL keeps it.
    /// </summary>
    private static DateTime ParseTime(string text, int index)
    {
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            || !text.Contains('T', StringComparison.Ordinal))
        {
            throw new FormatException($"message {index + 1} has a datetime that is not ISO 8601");
        }

        var ticks = time.UtcDateTime.Ticks;
        return new DateTime(ticks - (ticks % 10), DateTimeKind.Utc);
    }
}
