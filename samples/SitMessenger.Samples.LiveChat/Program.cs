using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace SitMessenger.Samples.LiveChat;

/// <summary>
/// Two users chatting live through the Gateway: each registers, logs in and connects to /hubs/chat; alice creates a
/// chat with bob, and they talk, with typing notices and read receipts, each printing what their connection hears.
/// Run against a running system: <c>dotnet run --project samples/SitMessenger.Samples.LiveChat -- http://localhost:8000</c>.
/// </summary>
internal static class Program
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static async Task<int> Main(string[] args)
    {
        var gateway = new Uri(args.Length > 0 ? args[0] : "http://localhost:8000");
        using var http = new HttpClient { BaseAddress = gateway };
        var alice = await ChatUser.SignUpAsync(http, "alice");
        var bob = await ChatUser.SignUpAsync(http, "bob");
        await alice.ConnectAsync(gateway);
        await bob.ConnectAsync(gateway);

        var chatId = await alice.CreateChatWithAsync(http, bob);
        await Pause();

        foreach (var (from, to, text) in new[]
        {
            (alice, bob, "Hi Bob, this arrived without you asking for it."),
            (bob, alice, "Within milliseconds. And I saw you typing."),
            (alice, bob, "Retries are safe too: every send carries a client message id."),
        })
        {
            await from.Hub.InvokeAsync("Typing", chatId);
            await Pause();
            var sent = await from.Hub.InvokeAsync<JsonElement>("Send", new { chat_id = chatId, message = text, client_message_id = Guid.NewGuid().ToString() });
            await Pause();
            await to.Hub.InvokeAsync<JsonElement>("MarkRead", new { chat_id = chatId, seq = sent.GetProperty("seq").GetInt64() });
            await Pause();
        }

        await alice.Hub.DisposeAsync();
        await bob.Hub.DisposeAsync();
        return 0;
    }

    private static Task Pause() => Task.Delay(400);

    private sealed class ChatUser(string name, string id, string access)
    {
        public string Name { get; } = name;

        public string Id { get; } = id;

        public HubConnection Hub { get; private set; } = null!;

        public static async Task<ChatUser> SignUpAsync(HttpClient http, string role)
        {
            var username = $"{role}_{Guid.NewGuid():N}"[..16];
            var password = "Sample-" + Guid.NewGuid().ToString("N")[..16];
            using var registered = await PostAsync(http, "/api/auth/users/", new { username, password });
            var id = (await registered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
            using var login = await PostAsync(http, "/api/auth/jwt/create/", new { username, password });
            return new ChatUser(username, id, (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access").GetString()!);
        }

        /// <summary>Posts, waiting out 429s (registration and login are throttled per address) as Retry-After says.</summary>
        private static async Task<HttpResponseMessage> PostAsync(HttpClient http, string path, object body)
        {
            for (var attempt = 1; ; attempt++)
            {
                var response = await http.PostAsJsonAsync(path, body);
                if (response.StatusCode != System.Net.HttpStatusCode.TooManyRequests || attempt == 10)
                {
                    return response.EnsureSuccessStatusCode();
                }

                var wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(5);
                response.Dispose();
                await Task.Delay(wait);
            }
        }

        public async Task ConnectAsync(Uri gateway)
        {
            Hub = new HubConnectionBuilder()
                .WithUrl(new Uri(gateway, "/hubs/chat"), options =>
                {
                    // Straight to a WebSocket: the Gateway has no sticky sessions across Api replicas.
                    options.SkipNegotiation = true;
                    options.Transports = HttpTransportType.WebSockets;
                    options.AccessTokenProvider = () => Task.FromResult<string?>(access);
                })
                .AddJsonProtocol(json => json.PayloadSerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower)
                .WithAutomaticReconnect()
                .Build();
            Hub.On<JsonElement>("message", m => Say($"message #{m.GetProperty("seq")} from {m.GetProperty("user")}: {m.GetProperty("message")}"));
            Hub.On<JsonElement>("typing", t => Say($"{t.GetProperty("user")} is typing..."));
            Hub.On<JsonElement>("read", r => Say($"{r.GetProperty("user")} has read up to #{r.GetProperty("seq")}"));
            Hub.On<JsonElement>("chat", c => Say($"chat {c.GetProperty("chat_id")}: {c.GetProperty("kind")}"));
            // "ready" says the connection hears every event from now on (the handshake completes a moment earlier).
            var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Hub.On<JsonElement>("ready", _ => ready.TrySetResult());
            await Hub.StartAsync();
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(15));
            Say("connected");
        }

        public async Task<Guid> CreateChatWithAsync(HttpClient http, ChatUser other)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/chat/") { Content = JsonContent.Create(new { owner = other.Id }) };
            request.Headers.Authorization = new("Bearer", access);
            using var response = await http.SendAsync(request);
            response.EnsureSuccessStatusCode();
            return (await response.Content.ReadFromJsonAsync<JsonElement>(Json)).GetProperty("id").GetGuid();
        }

        private void Say(string line) =>
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{DateTime.Now:HH:mm:ss.fff} [{Name}] {line}"));
    }
}
