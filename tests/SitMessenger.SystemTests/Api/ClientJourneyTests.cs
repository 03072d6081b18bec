using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests.Api;

/// <summary>What the SIT web client does, start to end, through the Gateway, as docs/api.md describes it.</summary>
[Collection(SystemCollection.Name)]
public sealed partial class ClientJourneyTests(SitMessengerAppFixture fixture)
{
    private const string WebClientOrigin = "http://localhost:3000";

    private readonly SitApiClient _api = new(fixture.Gateway);

    [Fact]
    public async Task The_web_clients_journey_from_registration_to_logout_works_through_the_gateway()
    {
        var outsider = (await _api.SharedUsersAsync())[2];

        // Register two users: 201 {id, username, email}.
        var aliceName = SitApiClient.UniqueUsername("alice");
        var alicePassword = SitApiClient.StrongPassword();
        var registered = await _api.RegisterAsync(new { username = aliceName, password = alicePassword, email = "alice@example.org", re_password = alicePassword });
        ApiAssert.Status(HttpStatusCode.Created, registered);
        Assert.Equal(aliceName, registered.Body.GetProperty("username").GetString());
        Assert.Equal("alice@example.org", registered.Body.GetProperty("email").GetString());
        Assert.False(registered.Body.TryGetProperty("password", out _), $"registration echoed the password: {registered}");
        var aliceId = registered.Body.GetProperty("id").GetString()!;
        Assert.True(Guid.TryParse(aliceId, out _), registered.ToString());

        var bobName = SitApiClient.UniqueUsername("bob");
        var bobPassword = SitApiClient.StrongPassword();
        var bobRegistered = await _api.RegisterAsync(bobName, bobPassword);
        ApiAssert.Status(HttpStatusCode.Created, bobRegistered);
        var bobId = bobRegistered.Body.GetProperty("id").GetString()!;
        Assert.NotEqual(aliceId, bobId);

        // Log in: 200 {access, refresh}.
        var aliceFirst = await _api.LoginTokensAsync(aliceName, alicePassword);
        var bob = new TestUser(bobId, bobName, bobPassword, await _api.LoginTokensAsync(bobName, bobPassword));

        // Refresh: a new pair, and the new access token works.
        var refreshed = await _api.RefreshAsync(aliceFirst.Refresh);
        ApiAssert.Status(HttpStatusCode.OK, refreshed);
        var aliceTokens = SitApiClient.Tokens(refreshed);
        Assert.NotEqual(aliceFirst.Refresh, aliceTokens.Refresh);
        Assert.NotEqual(aliceFirst.Access, aliceTokens.Access);
        var alice = new TestUser(aliceId, aliceName, alicePassword, aliceTokens);

        var me = await _api.GetAsync("/api/v1/users/me/", alice.Access);
        ApiAssert.Answer(HttpStatusCode.OK, JsonSerializer.Serialize(new { id = aliceId, username = aliceName }), me);
        var authMe = await _api.GetAsync("/api/auth/users/me/", alice.Access);
        ApiAssert.Answer(HttpStatusCode.OK, JsonSerializer.Serialize(new { id = aliceId, username = aliceName, email = "alice@example.org" }), authMe);
        var verified = await _api.PostAsync("/api/auth/jwt/verify/", new { token = alice.Access });
        ApiAssert.Answer(HttpStatusCode.OK, "{}", verified);

        // Every user is listed.
        var users = await _api.UsersAsync(alice);
        Assert.Equal(aliceName, users.GetValueOrDefault(aliceId));
        Assert.Equal(bobName, users.GetValueOrDefault(bobId));

        // Friends: the posted list replaces the old one and is what GET answers.
        var friendsSet = await _api.PostAsync("/api/v1/friends/", new { users_uuid = $"{bobId}, {outsider.Id}" }, alice.Access);
        ApiAssert.Status(HttpStatusCode.Created, friendsSet);
        Assert.Equal(
            new Dictionary<string, string> { [bobId] = bobName, [outsider.Id] = outsider.Username },
            friendsSet.Body.EnumerateArray().ToDictionary(f => f.GetProperty("id").GetString()!, f => f.GetProperty("username").GetString()!));
        var friends = await _api.GetAsync("/api/v1/friends/", alice.Access);
        ApiAssert.Status(HttpStatusCode.OK, friends);
        Assert.True(JsonElement.DeepEquals(friendsSet.Body, friends.Body) || SameSet(friendsSet.Body, friends.Body), $"GET friends {friends} differs from POST {friendsSet}");
        var replaced = await _api.PostAsync("/api/v1/friends/", new { users_uuid = bobId }, alice.Access);
        ApiAssert.Status(HttpStatusCode.Created, replaced);
        var afterReplace = await _api.GetAsync("/api/v1/friends/", alice.Access);
        ApiAssert.Answer(HttpStatusCode.OK, JsonSerializer.Serialize(new[] { new { id = bobId, username = bobName } }), afterReplace);

        // A chat with Bob: the caller is added to the owners.
        var created = await _api.PostAsync("/api/v1/chat/", new { owner = bobId }, alice.Access);
        ApiAssert.Status(HttpStatusCode.Created, created);
        var chatId = created.Body.GetProperty("id").GetString()!;
        Assert.True(Guid.TryParse(chatId, out _), created.ToString());
        AssertUtcTime(created.Body.GetProperty("created"));
        AssertUtcTime(created.Body.GetProperty("updated"));
        Assert.Equal(new[] { aliceId, bobId }.Order(), created.Body.GetProperty("owner").EnumerateArray().Select(o => o.GetString()!).Order());

        // A new chat starts with its own first line.
        var fresh = await _api.GetChatAsync(alice, chatId);
        ApiAssert.Status(HttpStatusCode.OK, fresh);
        Assert.Equal(chatId, fresh.Body.GetProperty("id").GetString());
        var owners = fresh.Body.GetProperty("owner").EnumerateArray()
            .ToDictionary(o => o.GetProperty("id").GetString()!, o => o.GetProperty("username").GetString()!);
        Assert.Equal(new Dictionary<string, string> { [aliceId] = aliceName, [bobId] = bobName }, owners);
        var firstLines = SitApiClient.Lines(fresh.Body);
        var beginning = Assert.Single(firstLines);
        Assert.Equal(SitApiClient.BeginningOfMessages, beginning.Message);
        Assert.Equal("", beginning.User);
        AssertUtcTime(beginning.Datetime);

        // Send with PATCH: 200, the chat's GET shape, the new line last.
        var sent = new List<(string User, string Text)>();
        foreach (var (sender, text) in new[] { (alice, "hello Bob"), (bob, "hi Alice, ça va? 👋"), (alice, "line\nbreak and \"quotes\"") })
        {
            var patched = await _api.PatchMessageAsync(sender, chatId, text);
            ApiAssert.Status(HttpStatusCode.OK, patched);
            Assert.Equal(chatId, patched.Body.GetProperty("id").GetString());
            Assert.Equal(JsonValueKind.Array, patched.Body.GetProperty("owner").ValueKind);
            var last = SitApiClient.Lines(patched.Body)[^1];
            Assert.Equal((sender.Username, text), (last.User, last.Message));
            AssertUtcTime(last.Datetime);
            sent.Add((sender.Username, text));
        }

        // Both members read the same lines, in order, the first line first.
        var aliceReads = await _api.ReadLinesAsync(alice, chatId);
        var bobReads = await _api.ReadLinesAsync(bob, chatId);
        Assert.Equal(aliceReads, bobReads);
        Assert.Equal(("", SitApiClient.BeginningOfMessages), (aliceReads[0].User, aliceReads[0].Message));
        Assert.Equal(sent, aliceReads.Skip(1).Select(l => (l.User, l.Message)));
        var times = aliceReads.Select(l => DateTimeOffset.Parse(l.Datetime, CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(times.Order(), times);

        // The routes answer without the trailing slash too.
        var noSlash = await _api.GetAsync($"/api/v1/chat/{chatId}", alice.Access);
        ApiAssert.Status(HttpStatusCode.OK, noSlash);
        Assert.Equal(aliceReads, SitApiClient.Lines(noSlash.Body));

        // The chat list: caller's chats only, newest `updated` first.
        var otherChat = await _api.CreateChatAsync(alice, outsider);
        var touched = await _api.PatchMessageAsync(bob, chatId, "bump");
        ApiAssert.Status(HttpStatusCode.OK, touched);
        sent.Add((bob.Username, "bump"));
        var aliceChats = await ChatIdsAsync(alice);
        Assert.Equal([chatId, otherChat], aliceChats);
        Assert.Equal([chatId], await ChatIdsAsync(bob));
        var outsiderChats = await ChatIdsAsync(outsider);
        Assert.DoesNotContain(chatId, outsiderChats);
        Assert.Contains(otherChat, outsiderChats);
        var listed = await _api.GetAsync("/api/v1/chat/", alice.Access);
        var listedChat = listed.Body.EnumerateArray().Single(c => c.GetProperty("id").GetString() == chatId);
        Assert.Equal(new[] { aliceId, bobId }.Order(), listedChat.GetProperty("owner").EnumerateArray().Select(o => o.GetString()!).Order());
        AssertUtcTime(listedChat.GetProperty("created"));
        AssertUtcTime(listedChat.GetProperty("updated"));

        // The newer send: 201 {seq, datetime, user, message}, seq growing.
        var seqs = new List<long>();
        for (var i = 1; i <= 5; i++)
        {
            var posted = await _api.PostMessageAsync(i % 2 == 0 ? bob : alice, chatId, $"newer send {i}");
            ApiAssert.Status(HttpStatusCode.Created, posted);
            Assert.Equal(JsonValueKind.Number, posted.Body.GetProperty("seq").ValueKind);
            Assert.Equal(i % 2 == 0 ? bobName : aliceName, posted.Body.GetProperty("user").GetString());
            Assert.Equal($"newer send {i}", posted.Body.GetProperty("message").GetString());
            AssertUtcTime(posted.Body.GetProperty("datetime"));
            seqs.Add(posted.Body.GetProperty("seq").GetInt64());
            sent.Add((posted.Body.GetProperty("user").GetString()!, $"newer send {i}"));
        }

        Assert.Equal(seqs.Order(), seqs);
        Assert.Equal(seqs.Count, seqs.Distinct().Count());
        Assert.Equal(sent, (await _api.ReadLinesAsync(bob, chatId)).Skip(1).Select(l => (l.User, l.Message)));

        // History pages: oldest first, `before` exclusive, has_more until the start.
        var newest = await _api.GetAsync($"{SitApiClient.MessagesPath(chatId)}?before={seqs[^1] + 1}&limit=2", alice.Access);
        ApiAssert.Status(HttpStatusCode.OK, newest);
        Assert.Equal([seqs[3], seqs[4]], newest.Body.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("seq").GetInt64()));
        Assert.Equal(["newer send 4", "newer send 5"], newest.Body.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("message").GetString()));
        Assert.True(newest.Body.GetProperty("has_more").GetBoolean(), newest.ToString());

        var middle = await _api.GetAsync($"{SitApiClient.MessagesPath(chatId)}?before={seqs[3]}&limit=2", bob.Access);
        ApiAssert.Status(HttpStatusCode.OK, middle);
        Assert.Equal(["newer send 2", "newer send 3"], middle.Body.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("message").GetString()));
        Assert.True(middle.Body.GetProperty("has_more").GetBoolean(), middle.ToString());

        var oldest = await _api.GetAsync($"{SitApiClient.MessagesPath(chatId)}?before={seqs[1]}&limit=500", alice.Access);
        ApiAssert.Status(HttpStatusCode.OK, oldest);
        var oldestLines = oldest.Body.GetProperty("messages").EnumerateArray().ToList();
        Assert.All(oldestLines, m => Assert.True(m.GetProperty("seq").GetInt64() < seqs[1], oldest.ToString()));
        // Whether the chat's own first line is part of the history is not documented; when it is, it comes first.
        Assert.Equal(
            sent.Take(sent.Count - 4).ToList(),
            oldestLines.Select(SitApiClient.Line).Where(l => !(l.User.Length == 0 && l.Message == SitApiClient.BeginningOfMessages)).Select(l => (l.User, l.Message)));
        Assert.False(oldest.Body.GetProperty("has_more").GetBoolean(), oldest.ToString());

        // Delete: 204, then the chat is gone.
        var deleted = await _api.DeleteAsync(SitApiClient.ChatPath(chatId), alice.Access);
        ApiAssert.Status(HttpStatusCode.NoContent, deleted);
        Assert.Equal("", deleted.Text);
        ApiAssert.Answer(HttpStatusCode.NotFound, """{"detail": "Not found."}""", await _api.GetChatAsync(alice, chatId));
        Assert.DoesNotContain(chatId, await ChatIdsAsync(alice));

        // Logout: 205, the refresh token is dead, and so is every access token of that login.
        var loggedOut = await _api.LogoutAsync(alice.Tokens.Refresh);
        ApiAssert.Status(HttpStatusCode.ResetContent, loggedOut);
        Assert.Equal("", loggedOut.Text);
        var afterLogout = await _api.RefreshAsync(alice.Tokens.Refresh);
        ApiAssert.Status(HttpStatusCode.Unauthorized, afterLogout);
        Assert.Equal("token_not_valid", afterLogout.Body.GetProperty("code").GetString());
        ApiAssert.Answer(HttpStatusCode.Unauthorized, """{"detail": "Given token not valid for any token type", "code": "token_not_valid"}""",
            await _api.GetAsync("/api/v1/users/me/", alice.Access));
        ApiAssert.Answer(HttpStatusCode.Unauthorized, """{"detail": "Given token not valid for any token type", "code": "token_not_valid"}""",
            await _api.GetAsync("/api/v1/chat/", aliceFirst.Access));

        // The refresh token rotated away at the start was revoked then.
        ApiAssert.Answer(HttpStatusCode.Unauthorized, """{"detail": "Token is blacklisted", "code": "token_not_valid"}""",
            await _api.RefreshAsync(aliceFirst.Refresh));

        // Bob's login is another family: untouched.
        ApiAssert.Status(HttpStatusCode.OK, await _api.GetAsync("/api/v1/chat/", bob.Access));
    }

    [Fact]
    public async Task The_openapi_document_describes_the_chat_routes()
    {
        var schema = await _api.GetAsync("/api/schema/");
        ApiAssert.Status(HttpStatusCode.OK, schema);
        Assert.True(schema.Body.ValueKind == JsonValueKind.Object, $"the schema is not a JSON object: {schema}");
        Assert.True(schema.Body.TryGetProperty("openapi", out var version) && version.GetString()!.StartsWith('3'), $"no OpenAPI 3 version: {schema}");
        var paths = schema.Body.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains(paths, p => ChatByIdPath().IsMatch(p));
        Assert.Contains(paths, p => p.StartsWith("/api/v1/chat", StringComparison.Ordinal) && p.Contains("messages", StringComparison.Ordinal));
        Assert.Contains(paths, p => p.StartsWith("/api/auth/jwt/create", StringComparison.Ordinal));

        // GET and PATCH answer the chat with its messages (written by ChatDetailResult, described as the record it writes).
        var chatById = schema.Body.GetProperty("paths").EnumerateObject().First(p => ChatByIdPath().IsMatch(p.Name)).Value;
        foreach (var method in new[] { "get", "patch" })
        {
            var answer = chatById.GetProperty(method).GetProperty("responses").GetProperty("200")
                .GetProperty("content").GetProperty("application/json").GetProperty("schema");
            var name = answer.GetProperty("$ref").GetString()!.Split('/')[^1];
            var properties = schema.Body.GetProperty("components").GetProperty("schemas").GetProperty(name).GetProperty("properties");
            Assert.True(properties.TryGetProperty("message_data", out _) && properties.TryGetProperty("cache_messages", out _), $"{method}: {properties}");
        }
    }

    [Fact]
    public async Task The_browsable_api_reference_is_served_as_html()
    {
        var page = await _api.GetAsync("/api/schema/swagger-ui/");
        ApiAssert.Status(HttpStatusCode.OK, page);
        Assert.Equal("text/html", page.MediaType);
        Assert.Contains("<html", page.Text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_cors_preflight_from_the_web_clients_origin_allows_patch_with_authorization()
    {
        var preflight = await _api.SendRawAsync(HttpMethod.Options, $"/api/v1/chat/{Guid.NewGuid()}/", content: null, authorization: null, headers:
        [
            new("Origin", WebClientOrigin),
            new("Access-Control-Request-Method", "PATCH"),
            new("Access-Control-Request-Headers", "authorization,content-type"),
        ]);
        Assert.True((int)preflight.Status is >= 200 and < 300, $"preflight refused: {preflight}");
        Assert.Equal(WebClientOrigin, preflight.Header("Access-Control-Allow-Origin"));
        var allowedHeaders = (preflight.Header("Access-Control-Allow-Headers") ?? "").Split(',', StringSplitOptions.TrimEntries);
        Assert.True(allowedHeaders.Contains("authorization", StringComparer.OrdinalIgnoreCase) || allowedHeaders.Contains("*"),
            $"Authorization not allowed: {string.Join(" | ", preflight.Headers.Select(h => $"{h.Key}: {h.Value}"))}");
        Assert.True(allowedHeaders.Contains("content-type", StringComparer.OrdinalIgnoreCase) || allowedHeaders.Contains("*"),
            $"Content-Type not allowed: {preflight.Header("Access-Control-Allow-Headers")}");
        var allowedMethods = (preflight.Header("Access-Control-Allow-Methods") ?? "").Split(',', StringSplitOptions.TrimEntries);
        Assert.True(allowedMethods.Contains("PATCH", StringComparer.OrdinalIgnoreCase) || allowedMethods.Contains("*"),
            $"PATCH not allowed: {preflight.Header("Access-Control-Allow-Methods")}");
    }

    private async Task<List<string>> ChatIdsAsync(TestUser user)
    {
        var chats = await _api.GetAsync("/api/v1/chat/", user.Access);
        ApiAssert.Status(HttpStatusCode.OK, chats);
        return [.. chats.Body.EnumerateArray().Select(c => c.GetProperty("id").GetString()!)];
    }

    private static bool SameSet(JsonElement left, JsonElement right) =>
        left.EnumerateArray().Select(e => e.GetRawText()).Order(StringComparer.Ordinal)
            .SequenceEqual(right.EnumerateArray().Select(e => e.GetRawText()).Order(StringComparer.Ordinal), StringComparer.Ordinal);

    private static void AssertUtcTime(JsonElement value)
    {
        Assert.Equal(JsonValueKind.String, value.ValueKind);
        AssertUtcTime(value.GetString()!);
    }

    private static void AssertUtcTime(string value)
    {
        Assert.True(value.EndsWith('Z') && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.None, out _),
            $"not an ISO 8601 UTC time: '{value}'");
    }

    [GeneratedRegex(@"^/api/v1/chat/\{[^}/]+\}/?$")]
    private static partial Regex ChatByIdPath();
}
