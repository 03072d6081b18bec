using System.Text.Json;
using SitMessenger.Api.Auth;
using SitMessenger.Api.Infrastructure;
using SitMessenger.Api.RealTime;

namespace SitMessenger.Api.Apis;

/// <summary>POST /api/v1/chat/{id}/read/: the caller has read the chat up to a seq; the other members see the receipt.</summary>
internal static class ChatReadApi
{
    public static IEndpointRouteBuilder MapChatReadApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/chat/{id}/read/", MarkReadAsync).WithTags("Chats").RequireAuthorization()
            .WithSummary("Mark the chat read up to seq (a mark never goes down); every member's hub connections get a 'read' event");
        return app;
    }

    private static async Task<Results<Ok<ReadMarkResponse>, NotFound<DetailBody>, BadRequest<Dictionary<string, string[]>>>> MarkReadAsync(
        string id, MarkReadRequest? body, HttpContext http, ReadReceipts receipts, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var chatId))
        {
            return DrfErrors.NotFound();
        }

        // seq is read by hand: a string or a fraction gets DRF's field error, not a binding failure.
        long? seq = body?.Seq switch
        {
            null or { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined } => null,
            { ValueKind: JsonValueKind.Number } number when number.TryGetInt64(out var value) => value,
            _ => -1,
        };
        if (seq is null)
        {
            return DrfErrors.Field("seq", DrfErrors.Required);
        }

        if (seq < 1)
        {
            return DrfErrors.Field("seq", "Ensure this value is an integer greater than or equal to 1.");
        }

        var outcome = await receipts.MarkAsync(chatId, http.User.UserId(), http.User.Username(), seq.Value, cancellationToken);
        if (outcome.NotFound)
        {
            return DrfErrors.NotFound();
        }

        return outcome.ReadSeq is { } read
            ? TypedResults.Ok(new ReadMarkResponse(chatId, read))
            : DrfErrors.Field("seq", ReadReceipts.PastLastSeq(outcome.LastSeq));
    }
}

internal sealed record MarkReadRequest(JsonElement? Seq);

internal sealed record ReadMarkResponse(Guid ChatId, long ReadSeq);
