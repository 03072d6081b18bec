using System.Net;
using System.Text.Json;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests.Api;

/// <summary>
/// GET/POST /api/v1/blocks/ and DELETE /api/v1/blocks/{id}/: a user someone blocked cannot put them into a chat. The
/// users are new ones: a block on a shared user would change what every other test may do.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class BlockTests(SitMessengerAppFixture fixture)
{
    private const string NotFound = """{"detail": "Not found."}""";

    private readonly SitApiClient _api = new(fixture.Gateway);

    private async Task<List<JsonElement>> BlocksAsync(TestUser user)
    {
        var blocks = await _api.GetAsync("/api/v1/blocks/", user.Access);
        ApiAssert.Status(HttpStatusCode.OK, blocks);
        return [.. blocks.Body.EnumerateArray()];
    }

    private async Task<List<string>> ChatIdsAsync(TestUser user)
    {
        var chats = await _api.GetAsync("/api/v1/chat/", user.Access);
        ApiAssert.Status(HttpStatusCode.OK, chats);
        return [.. chats.Body.EnumerateArray().Select(c => c.GetProperty("id").GetString()!)];
    }

    [Fact]
    public async Task A_blocked_user_cannot_add_the_blocker_to_a_chat_until_the_block_is_removed()
    {
        var blocker = await _api.CreateUserAsync("blocker");
        var pest = await _api.CreateUserAsync("pest");
        var bystander = (await _api.SharedUsersAsync())[2];

        var blocked = await _api.PostAsync("/api/v1/blocks/", new { user = pest.Id }, blocker.Access);
        ApiAssert.Status(HttpStatusCode.Created, blocked);
        var blockId = blocked.Body.GetProperty("id").GetString()!;
        Assert.Equal($"/api/v1/blocks/{blockId}/", blocked.Header("Location"));
        Assert.Equal(pest.Id, blocked.Body.GetProperty("user").GetString());
        Assert.Equal(pest.Username, blocked.Body.GetProperty("username").GetString());

        // Blocking again is answered with the same block, not a second one.
        var again = await _api.PostAsync("/api/v1/blocks/", new { user = pest.Id }, blocker.Access);
        ApiAssert.Status(HttpStatusCode.OK, again);
        Assert.Equal(blockId, again.Body.GetProperty("id").GetString());
        Assert.Equal([blockId], (await BlocksAsync(blocker)).Select(b => b.GetProperty("id").GetString()));
        Assert.Empty(await BlocksAsync(pest));

        // The pest cannot put the blocker into a chat, alone or among others; the answer names only the blocker's id.
        var refused = await _api.PostAsync("/api/v1/chat/", new { owner = $"{bystander.Id}, {blocker.Id}" }, pest.Access);
        ApiAssert.Answer(HttpStatusCode.BadRequest, $$"""{"owner": ["User \"{{blocker.Id}}\" cannot be added to a chat by you."]}""", refused);
        Assert.Empty(await ChatIdsAsync(blocker));
        Assert.Empty(await ChatIdsAsync(pest));

        // The block is one way: the blocker can still start a chat with the pest, and the pest can chat with others.
        var byBlocker = await _api.CreateChatAsync(blocker, pest);
        Assert.Equal([byBlocker], await ChatIdsAsync(pest));
        await _api.CreateChatAsync(pest, bystander);

        var removed = await _api.DeleteAsync($"/api/v1/blocks/{blockId}/", blocker.Access);
        ApiAssert.Status(HttpStatusCode.NoContent, removed);
        Assert.Empty(await BlocksAsync(blocker));
        var allowed = await _api.CreateChatAsync(pest, blocker);
        Assert.Contains(allowed, await ChatIdsAsync(blocker));
    }

    [Fact]
    public async Task Bad_block_requests_are_400_or_404_and_change_nothing()
    {
        var blocker = await _api.CreateUserAsync("strictblocker");
        var target = (await _api.SharedUsersAsync())[1];
        var existing = await _api.PostAsync("/api/v1/blocks/", new { user = target.Id }, blocker.Access);
        ApiAssert.Status(HttpStatusCode.Created, existing);
        var before = (await BlocksAsync(blocker)).Select(b => b.GetRawText()).ToList();
        var unknown = Guid.NewGuid();

        ApiAssert.Answer(HttpStatusCode.BadRequest, """{"user": ["This field is required."]}""", await _api.PostAsync("/api/v1/blocks/", new { }, blocker.Access));
        ApiAssert.Answer(HttpStatusCode.BadRequest, """{"user": ["This field may not be blank."]}""", await _api.PostAsync("/api/v1/blocks/", new { user = " " }, blocker.Access));
        ApiAssert.Answer(HttpStatusCode.BadRequest, """{"user": ["Not a valid string."]}""", await _api.PostAsync("/api/v1/blocks/", new { user = 42 }, blocker.Access));
        ApiAssert.Answer(HttpStatusCode.BadRequest, """{"user": ["\"nobody\" is not a valid UUID."]}""", await _api.PostAsync("/api/v1/blocks/", new { user = "nobody" }, blocker.Access));
        ApiAssert.Answer(HttpStatusCode.BadRequest, $$"""{"user": ["Invalid pk \"{{unknown}}\" - object does not exist."]}""",
            await _api.PostAsync("/api/v1/blocks/", new { user = unknown.ToString() }, blocker.Access));
        ApiAssert.Answer(HttpStatusCode.BadRequest, """{"user": ["You cannot block yourself."]}""", await _api.PostAsync("/api/v1/blocks/", new { user = blocker.Id }, blocker.Access));
        var malformed = await _api.SendRawAsync(
            HttpMethod.Post, "/api/v1/blocks/", new StringContent("""{"user": """, System.Text.Encoding.UTF8, "application/json"),
            new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", blocker.Access));
        ApiAssert.Status(HttpStatusCode.BadRequest, malformed);
        Assert.StartsWith("JSON parse error - ", malformed.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Someone else's block, an unknown id and a non-id are all just not found.
        var blockId = existing.Body.GetProperty("id").GetString()!;
        ApiAssert.Answer(HttpStatusCode.NotFound, NotFound, await _api.DeleteAsync($"/api/v1/blocks/{blockId}/", target.Access));
        ApiAssert.Answer(HttpStatusCode.NotFound, NotFound, await _api.DeleteAsync($"/api/v1/blocks/{Guid.NewGuid()}/", blocker.Access));
        ApiAssert.Answer(HttpStatusCode.NotFound, NotFound, await _api.DeleteAsync("/api/v1/blocks/not-a-uuid/", blocker.Access));

        // No token: 401 on every block route.
        ApiAssert.Status(HttpStatusCode.Unauthorized, await _api.GetAsync("/api/v1/blocks/"));
        ApiAssert.Status(HttpStatusCode.Unauthorized, await _api.PostAsync("/api/v1/blocks/", new { user = target.Id }));
        ApiAssert.Status(HttpStatusCode.Unauthorized, await _api.DeleteAsync($"/api/v1/blocks/{blockId}/"));

        Assert.Equal(before, (await BlocksAsync(blocker)).Select(b => b.GetRawText()));
    }
}
