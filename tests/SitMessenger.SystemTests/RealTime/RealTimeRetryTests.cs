using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using SitMessenger.SystemTests.Api;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests.RealTime;

/// <summary>A client message id makes a send safe to retry: the repeat answers the first send and stores nothing new.</summary>
[Collection(SystemCollection.Name)]
public sealed class RealTimeRetryTests(SitMessengerAppFixture fixture)
{
    private readonly SitApiClient _api = new(fixture.Gateway);

    [Fact]
    public async Task A_hub_client_that_retries_every_send_after_dropping_the_connection_before_the_answer_stores_each_message_once()
    {
        const int Sends = 20;
        var users = await RealTimeSetup.UsersAsync(_api);
        var (alice, bob) = (users[0], users[1]);
        var chatId = await RealTimeSetup.CreateChatAsync(_api, alice, bob);
        var gateway = RealTimeSetup.Gateway(fixture);

        var answers = new List<HubSent>();
        for (var i = 0; i < Sends; i++)
        {
            var id = $"hub-{Guid.NewGuid():N}";
            var text = $"retried message {i}";
            // The send goes out, and the connection is gone before any answer could come back.
            var dropped = await ChatHubClient.ConnectAsync(gateway, alice.Access);
            await dropped.Connection.SendAsync("Send", new { chat_id = chatId, message = text, client_message_id = id });
            await dropped.DisposeAsync();

            // The retry, on a new connection (to whichever replica the Gateway picks), with the same id.
            await using var retry = await ChatHubClient.ConnectAsync(gateway, alice.Access);
            var answer = await retry.SendAsync(chatId, text, id);
            Assert.Equal(text, answer.Message);
            answers.Add(answer);

            // And once more for good measure: always the same answer, now surely a repeat.
            var again = await retry.SendAsync(chatId, text, id);
            Assert.Equal((answer.Seq, answer.Datetime, answer.Message, true), (again.Seq, again.Datetime, again.Message, again.Repeated));
        }

        var stored = await HistoryAsync(alice, chatId);
        Assert.Equal(Enumerable.Range(0, Sends).Select(i => $"retried message {i}"), stored.Select(m => m.Text));
        Assert.Equal(answers.Select(a => a.Seq), stored.Select(m => m.Seq));
    }

    [Fact]
    public async Task A_REST_client_that_retries_every_send_after_dropping_the_connection_before_the_answer_stores_each_message_once()
    {
        const int Sends = 20;
        var users = await RealTimeSetup.UsersAsync(_api);
        var (alice, bob) = (users[0], users[1]);
        var chatId = await RealTimeSetup.CreateChatAsync(_api, alice, bob);
        var gateway = RealTimeSetup.Gateway(fixture);

        var seqs = new List<long>();
        for (var i = 0; i < Sends; i++)
        {
            var key = $"rest-{Guid.NewGuid():N}";
            var text = $"rest retried {i}";
            var path = SitApiClient.MessagesPath(chatId.ToString());
            await SendAndHangUpAsync(gateway, path, alice.Access, key, JsonSerializer.Serialize(new { message = text }));

            // The retry: whichever of PATCH or POST, the same key answers the first send.
            var answer = await PostWithKeyAsync(path, new { message = text }, alice.Access, key);
            ApiAssert.Status(HttpStatusCode.Created, answer);
            Assert.Equal(text, answer.Body.GetProperty("message").GetString());
            seqs.Add(answer.Body.GetProperty("seq").GetInt64());

            var again = await PostWithKeyAsync(path, new { message = text }, alice.Access, key);
            ApiAssert.Status(HttpStatusCode.Created, again);
            Assert.Equal(answer.Text, again.Text);
            Assert.Equal("true", again.Header("Idempotent-Replayed"));
        }

        var stored = await HistoryAsync(alice, chatId);
        Assert.Equal(Enumerable.Range(0, Sends).Select(i => $"rest retried {i}"), stored.Select(m => m.Text));
        Assert.Equal(seqs, stored.Select(m => m.Seq));
    }

    [Fact]
    public async Task A_repeated_id_answers_the_first_send_across_replicas_and_protocols_and_stores_nothing_new()
    {
        var users = await RealTimeSetup.UsersAsync(_api);
        var (alice, bob) = (users[0], users[1]);
        var chatId = await RealTimeSetup.CreateChatAsync(_api, alice, bob);
        var replicas = RealTimeSetup.ApiReplicas(fixture);
        await using var onReplica0 = await ChatHubClient.ConnectAsync(replicas[0], alice.Access);
        await using var onReplica1 = await ChatHubClient.ConnectAsync(replicas[1], alice.Access);
        await using var bobListening = await ChatHubClient.ConnectAsync(replicas[1], bob.Access);

        var first = await onReplica0.SendAsync(chatId, "the first text", "same-id");
        Assert.False(first.Repeated);
        var fromOtherReplica = await onReplica1.SendAsync(chatId, "a different text", "same-id");
        Assert.Equal(first with { Repeated = true }, fromOtherReplica);

        // The same id by REST (PATCH answers the chat as it stands, its last line the first send's message).
        var patched = await PatchWithKeyAsync(SitApiClient.ChatPath(chatId.ToString()), new { new_message = "third text" }, alice.Access, "same-id");
        ApiAssert.Status(HttpStatusCode.OK, patched);
        Assert.Equal("true", patched.Header("Idempotent-Replayed"));
        Assert.Equal("the first text", SitApiClient.Lines(patched.Body)[^1].Message);

        // The id is the sender's own: bob may use it too, for a message of his.
        await using var bobSending = await ChatHubClient.ConnectAsync(replicas[0], bob.Access);
        var bobs = await bobSending.SendAsync(chatId, "bob's text", "same-id");
        Assert.False(bobs.Repeated);

        var stored = await HistoryAsync(alice, chatId);
        Assert.Equal(["the first text", "bob's text"], stored.Select(m => m.Text));
        await ChatHubClient.WaitUntilAsync(() => bobListening.Messages(chatId).Count == 2, "bob hearing both messages");
        await Task.Delay(300);
        Assert.Equal(2, bobListening.Messages(chatId).Count);

        // An id that is no id is refused, and stores nothing.
        var bad = await PostWithKeyAsync(SitApiClient.MessagesPath(chatId.ToString()), new { message = "x" }, alice.Access, new string('k', 101));
        ApiAssert.Answer(HttpStatusCode.BadRequest, """{"detail": "Idempotency-Key: Must be 1 to 100 visible ASCII characters."}""", bad);
        Assert.Equal(2, (await HistoryAsync(alice, chatId)).Count);
    }

    private async Task<List<(long Seq, string Text)>> HistoryAsync(TestUser user, Guid chatId)
    {
        var history = await _api.GetAsync(SitApiClient.MessagesPath(chatId.ToString()) + "?limit=500", user.Access);
        ApiAssert.Status(HttpStatusCode.OK, history);
        return [.. history.Body.GetProperty("messages").EnumerateArray()
            .Select(m => (m.GetProperty("seq").GetInt64(), m.GetProperty("message").GetString()!))
            .Where(m => m.Item1 > 1)];
    }

    private Task<ApiResponse> PostWithKeyAsync(string path, object body, string access, string key) =>
        WithKeyAsync(HttpMethod.Post, path, body, access, key);

    private Task<ApiResponse> PatchWithKeyAsync(string path, object body, string access, string key) =>
        WithKeyAsync(HttpMethod.Patch, path, body, access, key);

    private Task<ApiResponse> WithKeyAsync(HttpMethod method, string path, object body, string access, string key) =>
        _api.SendRawAsync(method, path, new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
            new AuthenticationHeaderValue("Bearer", access), [new("Idempotency-Key", key)]);

    /// <summary>Writes a whole POST to the Gateway and closes the socket without reading a byte of the answer.</summary>
    private static async Task SendAndHangUpAsync(Uri gateway, string path, string access, string key, string json)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(gateway.Host, gateway.Port);
        var body = Encoding.UTF8.GetBytes(json);
        var head = $"POST {path} HTTP/1.1\r\nHost: {gateway.Authority}\r\nAuthorization: Bearer {access}\r\nIdempotency-Key: {key}\r\n"
            + $"Content-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n";
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(body);
        await stream.FlushAsync();
        tcp.Client.LingerState = new LingerOption(true, 0);
        tcp.Close();
    }
}
