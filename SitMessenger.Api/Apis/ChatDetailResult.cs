using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;
using SitMessenger.Api.Chats;

namespace SitMessenger.Api.Apis;

/// <summary>
/// The 200 answer of GET and PATCH on a chat: exactly what <c>TypedResults.Ok(detail)</c> writes, but each message of
/// the chat's window is encoded to JSON once and its bytes reused. The web client sends with PATCH and is answered
/// with the latest 100 messages every time, so without this every message was encoded (UTF-16 to UTF-8, escaped, its
/// time formatted) once per answer it appears in, up to a hundred times.
/// </summary>
internal sealed class ChatDetailResult(ChatDetailResponse detail) : IResult, IEndpointMetadataProvider, IStatusCodeHttpResult, IValueHttpResult, IValueHttpResult<ChatDetailResponse>
{
    // Keyed by the stored message the window holds: the bytes live exactly as long as the message is held anywhere.
    private static readonly ConditionalWeakTable<SentMessage, byte[]> Encoded = new();

    public ChatDetailResponse Value => detail;

    object? IValueHttpResult.Value => detail;

    public int StatusCode => StatusCodes.Status200OK;

    int? IStatusCodeHttpResult.StatusCode => StatusCode;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var options = httpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var names = options.PropertyNamingPolicy ?? JsonNamingPolicy.CamelCase;
        httpContext.Response.StatusCode = StatusCode;
        httpContext.Response.ContentType = "application/json; charset=utf-8";
        var body = httpContext.Response.BodyWriter;
        using (var writer = new Utf8JsonWriter(body, new JsonWriterOptions { Encoder = options.Encoder, Indented = options.WriteIndented }))
        {
            writer.WriteStartObject();
            Property(writer, names, nameof(ChatDetailResponse.Id), detail.Id, options);
            Property(writer, names, nameof(ChatDetailResponse.Created), detail.Created, options);
            Property(writer, names, nameof(ChatDetailResponse.Updated), detail.Updated, options);
            Property(writer, names, nameof(ChatDetailResponse.Owner), detail.Owner, options);
            WriteMessages(writer, names, nameof(ChatDetailResponse.MessageData), detail.MessageData, options);
            WriteMessages(writer, names, nameof(ChatDetailResponse.CacheMessages), detail.CacheMessages, options);
            writer.WriteEndObject();
        }

        await body.FlushAsync(httpContext.RequestAborted);
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(ChatDetailResponse), ["application/json"]));
    }

    private static void Property<T>(Utf8JsonWriter writer, JsonNamingPolicy names, string property, T value, JsonSerializerOptions options)
    {
        writer.WritePropertyName(names.ConvertName(property));
        JsonSerializer.Serialize(writer, value, options);
    }

    private static void WriteMessages(Utf8JsonWriter writer, JsonNamingPolicy names, string property, MessageListResponse list, JsonSerializerOptions options)
    {
        writer.WritePropertyName(names.ConvertName(property));
        writer.WriteStartObject();
        writer.WritePropertyName(names.ConvertName(nameof(MessageListResponse.Messages)));
        writer.WriteStartArray();
        foreach (var message in list.Messages)
        {
            if (message.Source is { } stored)
            {
                if (!Encoded.TryGetValue(stored, out var json))
                {
                    json = JsonSerializer.SerializeToUtf8Bytes(message, options);
                    Encoded.AddOrUpdate(stored, json);
                }

                writer.WriteRawValue(json, skipInputValidation: true);
            }
            else
            {
                JsonSerializer.Serialize(writer, message, options);
            }
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
