using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace SitMessenger.Bench.Load;

/// <summary>A setup request that did not get the answer it needed; the message names the request, the status and the body.</summary>
internal sealed class SetupException(string message) : Exception(message);

internal sealed record BenchUser(int Index, string Id, string Username, string AccessToken);

/// <summary>The few calls the setup makes (ping, register, log in, create chats). Any unexpected answer throws <see cref="SetupException"/>.</summary>
internal sealed class SetupClient(HttpClient http)
{
    private static readonly TimeSpan MaxThrottleWait = TimeSpan.FromSeconds(65);

    public async Task PingAsync(CancellationToken cancellationToken) =>
        await CallAsync(HttpMethod.Get, "api/v1/ping/?id=load-bench", body: null, token: null, HttpStatusCode.OK, "ping the Api", cancellationToken);

    /// <summary>Registers a user and logs it in once: two of the 20 login/registration attempts a minute.</summary>
    public async Task<BenchUser> RegisterAndLoginAsync(int index, string runId, CancellationToken cancellationToken)
    {
        var username = string.Create(CultureInfo.InvariantCulture, $"loadbench-{runId}-{index}");
        // Random, so never common nor similar to the username; letters and digits, so never entirely numeric.
        var password = "Pw" + Guid.NewGuid().ToString("N")[..18] + "x!";
        var registered = await CallAsync(
            HttpMethod.Post, "api/auth/users/", Json.Object(("username", username), ("password", password)), token: null,
            HttpStatusCode.Created, $"register user {username}", cancellationToken);
        var id = Json.Text(registered, "id")
            ?? throw new SetupException($"POST /api/auth/users/ (register user {username}) answered without an \"id\": {Json.Shorten(registered.GetRawText())}");

        var tokens = await CallAsync(
            HttpMethod.Post, "api/auth/jwt/create/", Json.Object(("username", username), ("password", password)), token: null,
            HttpStatusCode.OK, $"log in as {username}", cancellationToken);
        var access = Json.Text(tokens, "access")
            ?? throw new SetupException($"POST /api/auth/jwt/create/ (log in as {username}) answered without an \"access\" token: {Json.Shorten(tokens.GetRawText())}");
        return new BenchUser(index, id, username, access);
    }

    /// <summary>Creates a chat of the creator and the other owner; returns its id.</summary>
    public async Task<string> CreateChatAsync(BenchUser creator, BenchUser otherOwner, CancellationToken cancellationToken)
    {
        var chat = await CallAsync(
            HttpMethod.Post, "api/v1/chat/", Json.Object(("owner", otherOwner.Id)), creator.AccessToken,
            HttpStatusCode.Created, $"create a chat as {creator.Username} with {otherOwner.Username}", cancellationToken);
        return Json.Text(chat, "id")
            ?? throw new SetupException($"POST /api/v1/chat/ answered without an \"id\": {Json.Shorten(chat.GetRawText())}");
    }

    private async Task<JsonElement> CallAsync(
        HttpMethod method, string path, byte[]? body, string? token, HttpStatusCode expected, string purpose, CancellationToken cancellationToken)
    {
        var what = $"{method} /{path} ({purpose})";
        var throttleDeadline = DateTimeOffset.UtcNow + MaxThrottleWait;
        while (true)
        {
            using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
            if (token is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            if (body is not null)
            {
                var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                request.Content = content;
            }

            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException ex)
            {
                throw new SetupException($"{what} failed: {ex.Message} ({new Uri(http.BaseAddress!, path)})");
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new SetupException(string.Create(CultureInfo.InvariantCulture, $"{what} got no answer within {http.Timeout.TotalSeconds:0} s."));
            }

            using (response)
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                if (response.StatusCode == HttpStatusCode.TooManyRequests && DateTimeOffset.UtcNow < throttleDeadline)
                {
                    // Login/registration: 20 attempts a minute per address (another run a moment ago, say). Wait it out once.
                    var wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(10);
                    wait = TimeSpan.FromSeconds(Math.Clamp(wait.TotalSeconds, 1, MaxThrottleWait.TotalSeconds));
                    Progress.Write(string.Create(CultureInfo.InvariantCulture, $"{what}: throttled (429), waiting {wait.TotalSeconds:0} s as Retry-After says"));
                    await Task.Delay(wait, cancellationToken);
                    continue;
                }

                if (response.StatusCode != expected)
                {
                    throw new SetupException(string.Create(CultureInfo.InvariantCulture,
                        $"{what} answered {(int)response.StatusCode} {response.StatusCode} (expected {(int)expected} {expected}): {Json.Shorten(text)}"));
                }

                try
                {
                    using var document = JsonDocument.Parse(text);
                    return document.RootElement.Clone();
                }
                catch (JsonException)
                {
                    throw new SetupException($"{what} answered {(int)response.StatusCode} with a body that is not JSON: {Json.Shorten(text)}");
                }
            }
        }
    }
}
