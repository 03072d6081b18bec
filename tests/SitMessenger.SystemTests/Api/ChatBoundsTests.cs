using System.Globalization;
using System.Net;
using System.Text.Json;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests.Api;

/// <summary>
/// The bounds on chats (section ChatLimits, defaults in docs/api.md): chats created per user per hour, members per
/// chat, and the optional paging of the chat list, whose unpaged answer stays as it was.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class ChatBoundsTests(SitMessengerAppFixture fixture)
{
    private const int ChatsPerHour = 60;
    private const int MembersPerChat = 100;

    private readonly SitApiClient _api = new(fixture.Gateway);

    private async Task<List<JsonElement>> ChatListAsync(TestUser user, string query = "")
    {
        var chats = await _api.GetAsync("/api/v1/chat/" + query, user.Access);
        ApiAssert.Status(HttpStatusCode.OK, chats);
        Assert.Equal(JsonValueKind.Array, chats.Body.ValueKind);
        return [.. chats.Body.EnumerateArray()];
    }

    private static List<string> Ids(IEnumerable<JsonElement> chats) => [.. chats.Select(c => c.GetProperty("id").GetString()!)];

    [Fact]
    public async Task The_61st_chat_created_within_an_hour_is_429_with_retry_after_and_is_not_created()
    {
        var creator = await _api.CreateUserAsync("prolific");
        var other = (await _api.SharedUsersAsync())[1];

        for (var i = 0; i < ChatsPerHour; i++)
        {
            await _api.CreateChatAsync(creator, other);
        }

        var before = Ids(await ChatListAsync(creator));
        Assert.Equal(ChatsPerHour, before.Count);

        var refused = await _api.PostAsync("/api/v1/chat/", new { owner = other.Id }, creator.Access);
        ApiAssert.Status(HttpStatusCode.TooManyRequests, refused);
        var retryAfter = int.Parse(refused.Header("Retry-After") ?? "", CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 3600);
        ApiAssert.Answer(HttpStatusCode.TooManyRequests, $$"""{"detail": "Request was throttled. Expected available in {{retryAfter}} seconds."}""", refused);

        Assert.Equal(before, Ids(await ChatListAsync(creator)));
        // Others are not held back by one user's limit.
        var otherChat = await _api.CreateChatAsync(other, creator);
        Assert.Contains(otherChat, Ids(await ChatListAsync(creator)));
    }

    [Fact]
    public async Task A_chat_of_more_than_100_members_is_a_400_on_owner_and_is_not_created()
    {
        var caller = (await _api.SharedUsersAsync())[0];
        var before = Ids(await ChatListAsync(caller));

        // 100 others and the caller: one too many, refused for its size before any id is looked up.
        var tooMany = string.Join(", ", Enumerable.Range(0, MembersPerChat).Select(_ => Guid.NewGuid()));
        ApiAssert.Answer(
            HttpStatusCode.BadRequest,
            """{"owner": ["Ensure this field has no more than 99 users: a chat has at most 100 members, you included."]}""",
            await _api.PostAsync("/api/v1/chat/", new { owner = tooMany }, caller.Access));

        // 99 others and the caller is within the bound: these fail only for not existing.
        var atTheBound = Enumerable.Range(0, MembersPerChat - 1).Select(_ => Guid.NewGuid().ToString()).ToList();
        var messages = ApiAssert.FieldErrors("owner", await _api.PostAsync("/api/v1/chat/", new { owner = string.Join(", ", atTheBound) }, caller.Access));
        Assert.Equal(atTheBound.Select(id => $"Invalid pk \"{id}\" - object does not exist."), messages);

        Assert.Equal(before, Ids(await ChatListAsync(caller)));
    }

    [Fact]
    public async Task The_chat_list_pages_newest_first_with_limit_and_before_and_answers_whole_without_them()
    {
        var user = await _api.CreateUserAsync("pager");
        var other = (await _api.SharedUsersAsync())[2];
        var created = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            created.Add(await _api.CreateChatAsync(user, other));
        }

        // A message moves the first chat to the top.
        ApiAssert.Status(HttpStatusCode.OK, await _api.PatchMessageAsync(user, created[0], "bump"));

        var whole = await ChatListAsync(user);
        Assert.Equal(created.Skip(1).Reverse().Prepend(created[0]), Ids(whole));
        // The original's fields, and the two issue 12 added for real-time clients (the web client ignores them).
        Assert.All(whole, c => Assert.Equal(
            ["created", "id", "last_message_seq", "owner", "unread", "updated"], c.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)));

        var paged = new List<JsonElement>();
        var query = "?limit=2";
        for (var pages = 0; query is not null; pages++)
        {
            Assert.True(pages < 5, "the pages never end");
            var answer = await _api.GetAsync("/api/v1/chat/" + query, user.Access);
            ApiAssert.Status(HttpStatusCode.OK, answer);
            var page = answer.Body.EnumerateArray().ToList();
            Assert.InRange(page.Count, 1, 2);
            paged.AddRange(page);

            var link = answer.Header("Link");
            if (link is null)
            {
                query = null;
                continue;
            }

            // The next page is the one the client would ask for itself: "updated,id" of the last chat seen.
            var last = page[^1];
            var cursor = $"{last.GetProperty("updated").GetString()},{last.GetProperty("id").GetString()}";
            Assert.Contains(Uri.EscapeDataString(cursor), link, StringComparison.Ordinal);
            Assert.EndsWith("; rel=\"next\"", link, StringComparison.Ordinal);
            query = "?limit=2&before=" + Uri.EscapeDataString(cursor);
        }

        Assert.Equal(Ids(whole), Ids(paged));
        Assert.Equal(whole.Select(c => c.GetRawText()), paged.Select(c => c.GetRawText()));
    }

    [Fact]
    public async Task Bad_paging_parameters_are_400_on_their_field()
    {
        var user = (await _api.SharedUsersAsync())[0];

        ApiAssert.Answer(HttpStatusCode.BadRequest, """{"limit": ["Ensure this value is between 1 and 500."]}""", await _api.GetAsync("/api/v1/chat/?limit=0", user.Access));
        ApiAssert.Answer(HttpStatusCode.BadRequest, """{"limit": ["Ensure this value is between 1 and 500."]}""", await _api.GetAsync("/api/v1/chat/?limit=501", user.Access));
        ApiAssert.Answer(HttpStatusCode.BadRequest, """{"before": ["Enter the \"updated,id\" of the last chat of the previous page."]}""",
            await _api.GetAsync("/api/v1/chat/?before=yesterday", user.Access));
        ApiAssert.Answer(HttpStatusCode.BadRequest, """{"before": ["Enter the \"updated,id\" of the last chat of the previous page."]}""",
            await _api.GetAsync($"/api/v1/chat/?limit=5&before=2026-01-01T00:00:00Z,{new string('z', 36)}", user.Access));
        ApiAssert.Status(HttpStatusCode.BadRequest, await _api.GetAsync("/api/v1/chat/?limit=many", user.Access));
    }
}
