using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using SitMessenger.Api.Apis;
using SitMessenger.Api.Chats;
using SitMessenger.Api.Extensions;
using SitMessenger.Chat.Accounts;

namespace SitMessenger.UnitTests.Api;

public sealed class ChatDetailResultTests
{
    private static readonly DateTime Created = new(2026, 12, 7, 8, 0, 0, DateTimeKind.Utc);

    private static readonly ChatDetailResponse Detail = new(
        Guid.CreateVersion7(),
        Created,
        Created.AddTicks(1_234_560),
        [new UserSummary(Guid.CreateVersion7(), "alice"), new UserSummary(Guid.CreateVersion7(), "бoб")],
        new MessageListResponse([
            new MessageResponse(Created, "", "Beginning of messages"),
            MessageResponse.From(new SentMessage(2, Created.AddSeconds(1), "alice", "quotes \" ' \\ and <html> & a\nnewline")),
        ]),
        new MessageListResponse([
            MessageResponse.From(new SentMessage(3, Created.AddSeconds(2).AddTicks(10), "бoб", "non-ASCII: żółć 😀, \u2028 and \t")),
        ]));

    [Fact]
    public async Task The_answer_is_byte_for_byte_what_the_json_serializer_writes_for_the_chat()
    {
        var options = new JsonOptions();
        ApiServiceExtensions.ConfigureJson(options.SerializerOptions);
        var expected = JsonSerializer.Serialize(Detail, options.SerializerOptions);

        // Twice: the second answer is written from the bytes the first one encoded.
        Assert.Equal(expected, await WriteAsync(options));
        Assert.Equal(expected, await WriteAsync(options));
    }

    private static async Task<string> WriteAsync(JsonOptions options)
    {
        var services = new ServiceCollection().AddSingleton(Microsoft.Extensions.Options.Options.Create(options)).BuildServiceProvider();
        using var body = new MemoryStream();
        var http = new DefaultHttpContext { RequestServices = services };
        http.Response.Body = body;

        await new ChatDetailResult(Detail).ExecuteAsync(http);

        Assert.Equal(StatusCodes.Status200OK, http.Response.StatusCode);
        Assert.StartsWith("application/json", http.Response.ContentType, StringComparison.Ordinal);
        return Encoding.UTF8.GetString(body.ToArray());
    }
}
