using System.Globalization;
using SitMessenger.Chat.Storage;
using SitMessenger.Api.Chats;

namespace SitMessenger.Api.Apis;

/// <summary>
/// The <c>before</c> of GET /api/v1/chat/: "updated,id" of the last chat of the previous page, as the list showed them.
/// Both are needed: chats can share an <c>updated</c>, and a position by id alone would move when that chat does.
/// </summary>
internal static class ChatListCursor
{
    public const string Invalid = "Enter the \"updated,id\" of the last chat of the previous page.";

    /// <summary>The time written as the JSON of the list writes it (trailing zeros of the fraction dropped).</summary>
    public static string Format(DateTime updated, Guid id) =>
        updated.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture) + "," + id.ToString("D");

    public static ChatListPosition? Parse(string value)
    {
        var comma = value.LastIndexOf(',');
        if (comma <= 0
            || !Guid.TryParse(value.AsSpan(comma + 1).Trim(), out var id)
            || !DateTimeOffset.TryParse(value.AsSpan(0, comma).Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var updated))
        {
            return null;
        }

        return new ChatListPosition(updated.UtcDateTime, id);
    }
}
