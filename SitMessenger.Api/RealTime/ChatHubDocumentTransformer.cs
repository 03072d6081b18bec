using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace SitMessenger.Api.RealTime;

/// <summary>
/// Puts the chat hub into the OpenAPI document (OpenAPI has no words for a SignalR hub: it is the WebSocket path, its
/// methods and events described in text, docs/api.md in full), and the Idempotency-Key header on the sends.
/// </summary>
internal sealed class ChatHubDocumentTransformer : IOpenApiDocumentTransformer
{
    private const string HubDescription =
        """
        SignalR hub (JSON protocol, property names in snake_case). Connect with the SignalR client, WebSockets transport
        with skipNegotiation (several Api replicas sit behind the Gateway without sticky sessions), and the access token
        as the client sends it (Authorization header, or access_token in the query from browsers).

        Methods (errors are HubExceptions whose message is the REST detail, e.g. "Not found."; an error changes nothing):
        - Send({chat_id, message, client_message_id?}) -> {chat_id, seq, datetime, user, message, repeated}
        - Typing(chat_id)
        - MarkRead({chat_id, seq}) -> {chat_id, read_seq}
        - CatchUp({chat_id, after_seq, limit?}) -> {chat_id, messages: [{seq, datetime, user, message}], has_more, last_seq}

        Events, for every chat the user belongs to:
        - message {chat_id, seq, datetime, user, user_id, message}: each stored message once, in seq order per chat
        - typing {chat_id, user, user_id, expires_in_ms}
        - read {chat_id, user, user_id, seq}
        - chat {chat_id, kind: added | removed | deleted, last_seq}
        - ready {user_id}: sent first, once the connection hears every event (catch up after it)

        After a reconnect call CatchUp from the last seq seen per chat; a message event whose seq is more than one past
        the last seen also means "catch up first".
        """;

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Paths ??= [];
        var hub = new OpenApiOperation
        {
            Summary = "Real-time chat hub (SignalR over WebSocket)",
            Description = HubDescription,
            Tags = new HashSet<OpenApiTagReference> { new("Real-time", document) },
            Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("Bearer", document)] = [] }],
            Responses = new OpenApiResponses
            {
                ["101"] = new OpenApiResponse { Description = "Switching to WebSocket: the SignalR connection" },
                ["401"] = new OpenApiResponse { Description = "No token, or a forged, expired or revoked one" },
                ["429"] = new OpenApiResponse { Description = "The user already holds RealTime:ConnectionsPerUser connections on this replica" },
            },
        };
        document.Paths[RealTimeExtensions.HubPath] = new OpenApiPathItem
        {
            Operations = new Dictionary<HttpMethod, OpenApiOperation> { [HttpMethod.Get] = hub },
        };

        foreach (var (path, item) in document.Paths)
        {
            if (!path.StartsWith("/api/v1/chat/{id}", StringComparison.Ordinal) || item.Operations is null)
            {
                continue;
            }

            foreach (var (method, operation) in item.Operations)
            {
                var isSend = method == HttpMethod.Patch || (method == HttpMethod.Post && path.Contains("/messages", StringComparison.Ordinal));
                if (isSend)
                {
                    operation.Parameters ??= [];
                    operation.Parameters.Add(new OpenApiParameter
                    {
                        Name = "Idempotency-Key",
                        In = ParameterLocation.Header,
                        Required = false,
                        Description = "A client message id (1..100 visible ASCII characters). A retry with the same one within 24 h "
                            + "answers the first send (with Idempotent-Replayed: true) and stores nothing new.",
                        Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 100 },
                    });
                }
            }
        }

        return Task.CompletedTask;
    }
}
