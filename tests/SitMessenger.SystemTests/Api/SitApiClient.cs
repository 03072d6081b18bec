using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace SitMessenger.SystemTests.Api;

/// <summary>What the API answered: the status, the headers, the body as text and, when it is JSON, parsed.</summary>
public sealed record ApiResponse(HttpStatusCode Status, JsonElement Body, string Text, string? MediaType, IReadOnlyDictionary<string, string> Headers)
{
    /// <summary>A response or content header, its values joined by ", "; null when absent.</summary>
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{(int)Status} {Status}: {(Text.Length > 2000 ? Text[..2000] + "..." : Text)}");
}

/// <summary>The two tokens a login or a refresh answers.</summary>
public sealed record TokenPair(string Access, string Refresh);

/// <summary>A registered and logged-in user of the running system.</summary>
public sealed record TestUser(string Id, string Username, string Password, TokenPair Tokens)
{
    public string Access => Tokens.Access;
}

/// <summary>One line of a chat as the API shows it.</summary>
public sealed record ChatLine(string Datetime, string User, string Message);

/// <summary>
/// The SIT web client's view of the API, through the Gateway. Every request carries its own Authorization header:
/// the shared <see cref="HttpClient"/> is never changed. Tests share one database, so names are always unique.
/// </summary>
public sealed class SitApiClient(HttpClient gateway)
{
    public const string BeginningOfMessages = "Beginning of messages";

    // Registration and login are throttled per client address (20 a minute) and every test comes from 127.0.0.1:
    // the users below are created once per running system and shared by the API test classes.
    private static readonly Lock SharedGate = new();
    private static HttpClient? s_sharedFor;
    private static Task<IReadOnlyList<TestUser>>? s_shared;

    private static readonly TimeSpan LongestThrottleWait = TimeSpan.FromSeconds(65);

    public HttpClient Gateway { get; } = gateway;

    public static Uri Relative(string path) => new(path, UriKind.Relative);

    /// <summary>A username no other test (or earlier run on the same database) has: role, then a Guid.</summary>
    public static string UniqueUsername(string role) => $"sit_{role}_{Guid.NewGuid():N}";

    /// <summary>A password that passes Django's validators and looks nothing like any username.</summary>
    public static string StrongPassword() => "Lantern-" + Guid.NewGuid().ToString("N")[..12] + "-Quay";

    // ---------------------------------------------------------------- requests

    public Task<ApiResponse> GetAsync(string path, string? access = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, path, body: null, access, cancellationToken);

    public Task<ApiResponse> PostAsync(string path, object? body, string? access = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, path, body, access, cancellationToken);

    public Task<ApiResponse> PatchAsync(string path, object? body, string? access = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Patch, path, body, access, cancellationToken);

    public Task<ApiResponse> DeleteAsync(string path, string? access = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, path, body: null, access, cancellationToken);

    /// <summary>Sends <paramref name="body"/> serialized as JSON (property names as given), with a bearer token when one is given.</summary>
    public Task<ApiResponse> SendAsync(HttpMethod method, string path, object? body, string? access, CancellationToken cancellationToken = default)
    {
        var content = body is null ? null : new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        return SendRawAsync(method, path, content, access is null ? null : new AuthenticationHeaderValue("Bearer", access), headers: null, cancellationToken);
    }

    /// <summary>Sends exactly the given content and headers; the request (and so the content) is disposed afterwards.</summary>
    public async Task<ApiResponse> SendRawAsync(
        HttpMethod method,
        string path,
        HttpContent? content,
        AuthenticationHeaderValue? authorization,
        IEnumerable<KeyValuePair<string, string>>? headers = null,
        CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(method, Relative(path)) { Content = content };
        request.Headers.Authorization = authorization;
        foreach (var (name, value) in headers ?? [])
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await Gateway.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        var all = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            all[name] = string.Join(", ", values);
        }

        return new ApiResponse(response.StatusCode, ParseJson(text), text, response.Content.Headers.ContentType?.MediaType, all);
    }

    private static JsonElement ParseJson(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return default;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return default;
        }
    }

    // ---------------------------------------------------------------- accounts and tokens

    /// <summary>POST /api/auth/users/ as sent; waits out a 429 (the per-address throttle) rather than failing on it.</summary>
    public Task<ApiResponse> RegisterAsync(object body) => PostThrottledAsync("/api/auth/users/", body);

    public Task<ApiResponse> RegisterAsync(string username, string password) => RegisterAsync(new { username, password });

    /// <summary>POST /api/auth/jwt/create/ as sent; waits out a 429 rather than failing on it.</summary>
    public Task<ApiResponse> LoginAsync(string username, string password) => PostThrottledAsync("/api/auth/jwt/create/", new { username, password });

    public async Task<TokenPair> LoginTokensAsync(string username, string password)
    {
        var answer = await LoginAsync(username, password);
        ApiAssert.Status(HttpStatusCode.OK, answer);
        return Tokens(answer);
    }

    public Task<ApiResponse> RefreshAsync(string refresh) => PostAsync("/api/auth/jwt/refresh/", new { refresh });

    public Task<ApiResponse> LogoutAsync(string refresh) => PostAsync("/api/auth/jwt/logout/", new { refresh });

    public static TokenPair Tokens(ApiResponse answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var access = answer.Body.GetProperty("access").GetString();
        var refresh = answer.Body.GetProperty("refresh").GetString();
        Assert.False(string.IsNullOrEmpty(access), $"no access token in {answer}");
        Assert.False(string.IsNullOrEmpty(refresh), $"no refresh token in {answer}");
        return new TokenPair(access!, refresh!);
    }

    /// <summary>Registers a new user and logs in: two of the 20 throttled attempts a minute. Prefer <see cref="SharedUsersAsync"/>.</summary>
    public async Task<TestUser> CreateUserAsync(string role)
    {
        var username = UniqueUsername(role);
        var password = StrongPassword();
        var registered = await RegisterAsync(username, password);
        ApiAssert.Status(HttpStatusCode.Created, registered);
        Assert.Equal(username, registered.Body.GetProperty("username").GetString());
        var id = registered.Body.GetProperty("id").GetString();
        Assert.True(Guid.TryParse(id, out _), $"registration answered a non-UUID id: {registered}");
        return new TestUser(id!, username, password, await LoginTokensAsync(username, password));
    }

    /// <summary>
    /// Three users registered and logged in once per running system, for tests that only need someone to act as.
    /// Tests must not revoke their tokens (no logout, no refresh reuse) nor depend on their friend list.
    /// </summary>
    public Task<IReadOnlyList<TestUser>> SharedUsersAsync()
    {
        lock (SharedGate)
        {
            if (s_shared is null || !ReferenceEquals(s_sharedFor, Gateway))
            {
                s_sharedFor = Gateway;
                s_shared = CreateSharedUsersAsync();
            }

            return s_shared;
        }
    }

    private async Task<IReadOnlyList<TestUser>> CreateSharedUsersAsync() =>
        [await CreateUserAsync("shared1"), await CreateUserAsync("shared2"), await CreateUserAsync("shared3")];

    private async Task<ApiResponse> PostThrottledAsync(string path, object body)
    {
        var deadline = DateTime.UtcNow + LongestThrottleWait + LongestThrottleWait;
        while (true)
        {
            var answer = await PostAsync(path, body);
            if (answer.Status != HttpStatusCode.TooManyRequests || DateTime.UtcNow > deadline)
            {
                return answer;
            }

            var seconds = int.TryParse(answer.Header("Retry-After"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : 5;
            await Task.Delay(TimeSpan.FromSeconds(Math.Clamp(seconds, 1, LongestThrottleWait.TotalSeconds)));
        }
    }

    // ---------------------------------------------------------------- users, chats, messages

    /// <summary>Every user the API lists, by id → username.</summary>
    public async Task<IReadOnlyDictionary<string, string>> UsersAsync(TestUser caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var answer = await GetAsync("/api/v1/users/", caller.Access);
        ApiAssert.Status(HttpStatusCode.OK, answer);
        return answer.Body.EnumerateArray().ToDictionary(u => u.GetProperty("id").GetString()!, u => u.GetProperty("username").GetString()!);
    }

    /// <summary>POST /api/v1/chat/ with the others' ids; asserts 201 and answers the new chat's id.</summary>
    public async Task<string> CreateChatAsync(TestUser caller, params TestUser[] others)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var answer = await PostAsync("/api/v1/chat/", new { owner = string.Join(", ", others.Select(o => o.Id)) }, caller.Access);
        ApiAssert.Status(HttpStatusCode.Created, answer);
        var id = answer.Body.GetProperty("id").GetString();
        Assert.False(string.IsNullOrEmpty(id), $"no chat id in {answer}");
        return id!;
    }

    public static string ChatPath(string chatId) => $"/api/v1/chat/{chatId}/";

    public static string MessagesPath(string chatId) => $"/api/v1/chat/{chatId}/messages/";

    public Task<ApiResponse> GetChatAsync(TestUser caller, string chatId) => GetAsync(ChatPath(chatId), caller?.Access);

    /// <summary>The web client's send: PATCH the chat with <c>new_message</c>.</summary>
    public Task<ApiResponse> PatchMessageAsync(TestUser caller, string chatId, string text, CancellationToken cancellationToken = default) =>
        PatchAsync(ChatPath(chatId), new { new_message = text }, caller?.Access, cancellationToken);

    /// <summary>The newer send: POST /messages/ with <c>message</c>.</summary>
    public Task<ApiResponse> PostMessageAsync(TestUser caller, string chatId, string text, CancellationToken cancellationToken = default) =>
        PostAsync(MessagesPath(chatId), new { message = text }, caller?.Access, cancellationToken);

    /// <summary>GET the chat as a member (asserts 200) and answer its lines, flushed then pending.</summary>
    public async Task<IReadOnlyList<ChatLine>> ReadLinesAsync(TestUser caller, string chatId)
    {
        var answer = await GetChatAsync(caller, chatId);
        ApiAssert.Status(HttpStatusCode.OK, answer);
        return Lines(answer.Body);
    }

    /// <summary>A chat's lines as GET/PATCH show them: <c>message_data.messages</c> then <c>cache_messages.messages</c>.</summary>
    public static IReadOnlyList<ChatLine> Lines(JsonElement chat)
    {
        var lines = new List<ChatLine>();
        foreach (var part in new[] { "message_data", "cache_messages" })
        {
            Assert.True(chat.TryGetProperty(part, out var holder) && holder.ValueKind == JsonValueKind.Object, $"chat has no '{part}' object: {chat}");
            Assert.True(holder.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array, $"'{part}' has no 'messages' list: {chat}");
            lines.AddRange(messages.EnumerateArray().Select(Line));
        }

        return lines;
    }

    public static ChatLine Line(JsonElement message)
    {
        Assert.Equal(JsonValueKind.String, message.GetProperty("datetime").ValueKind);
        Assert.Equal(JsonValueKind.String, message.GetProperty("user").ValueKind);
        Assert.Equal(JsonValueKind.String, message.GetProperty("message").ValueKind);
        return new ChatLine(message.GetProperty("datetime").GetString()!, message.GetProperty("user").GetString()!, message.GetProperty("message").GetString()!);
    }

    /// <summary>The texts people wrote, in order: every line but the chat's own first line.</summary>
    public static IReadOnlyList<string> Written(IEnumerable<ChatLine> lines) =>
        [.. lines.Where(l => !(l.User.Length == 0 && l.Message == BeginningOfMessages)).Select(l => l.Message)];
}

/// <summary>Assertions that show the whole answer when they fail.</summary>
public static class ApiAssert
{
    public static void Status(HttpStatusCode expected, ApiResponse answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        if (answer.Status != expected)
        {
            Assert.Fail(string.Create(CultureInfo.InvariantCulture, $"expected {(int)expected} {expected}, got {answer}"));
        }
    }

    /// <summary>The status and the exact JSON body (property order aside).</summary>
    public static void Answer(HttpStatusCode expected, string expectedJson, ApiResponse answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        Status(expected, answer);
        using var expectedDocument = JsonDocument.Parse(expectedJson);
        if (answer.Body.ValueKind == JsonValueKind.Undefined || !JsonElement.DeepEquals(expectedDocument.RootElement, answer.Body))
        {
            Assert.Fail($"expected body {expectedJson}, got {answer} (content type {answer.MediaType})");
        }
    }

    public static void Success(ApiResponse answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        Assert.True((int)answer.Status is >= 200 and < 300, $"expected a 2xx, got {answer}");
    }

    /// <summary>A DRF field-error body whose only field is <paramref name="field"/>, holding at least one message.</summary>
    public static IReadOnlyList<string> FieldErrors(string field, ApiResponse answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        Status(HttpStatusCode.BadRequest, answer);
        Assert.True(answer.Body.ValueKind == JsonValueKind.Object, $"expected a JSON object, got {answer}");
        Assert.True(answer.Body.TryGetProperty(field, out var messages) && messages.ValueKind == JsonValueKind.Array && messages.GetArrayLength() > 0,
            $"expected a non-empty '{field}' list, got {answer}");
        Assert.All(messages.EnumerateArray(), m => Assert.True(m.ValueKind == JsonValueKind.String && m.GetString()!.Length > 0, $"not a message: {answer}"));
        return [.. messages.EnumerateArray().Select(m => m.GetString()!)];
    }
}
