using SitMessenger.Api.Accounts;
using SitMessenger.Api.Auth;
using SitMessenger.Api.Infrastructure;

namespace SitMessenger.Api.Apis;

/// <summary>The caller's blocks: a user the caller blocked cannot put the caller into a chat.</summary>
internal static class BlocksApi
{
    public static IEndpointRouteBuilder MapBlocksApi(this IEndpointRouteBuilder app)
    {
        var blocks = app.MapGroup("/api/v1/blocks").WithTags("Blocks").RequireAuthorization();

        blocks.MapGet("/", ListBlocksAsync).WithSummary("The users the caller blocked");
        blocks.MapPost("/", BlockAsync)
            .WithSummary("Block a user: they can no longer add the caller to a chat (201; 200 when already blocked)");
        blocks.MapDelete("/{id}/", UnblockAsync).WithSummary("Remove one of the caller's blocks");
        return app;
    }

    private static async Task<Ok<List<BlockResponse>>> ListBlocksAsync(HttpContext http, BlockStore store, CancellationToken cancellationToken)
    {
        var blocks = await store.ListAsync(http.User.UserId(), cancellationToken);
        return TypedResults.Ok(blocks.Select(BlockResponse.From).ToList());
    }

    private static async Task<Results<Created<BlockResponse>, Ok<BlockResponse>, BadRequest<Dictionary<string, string[]>>>> BlockAsync(
        BlockRequest? body, HttpContext http, BlockStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var text = errors.RequireText("user", body?.User);
        if (text is null)
        {
            return DrfErrors.Fields(errors);
        }

        if (!Guid.TryParse(text, out var blockedId))
        {
            return DrfErrors.Field("user", $"\"{(text.Length <= 64 ? text : text[..64] + "...")}\" is not a valid UUID.");
        }

        var caller = http.User.UserId();
        if (blockedId == caller)
        {
            return DrfErrors.Field("user", "You cannot block yourself.");
        }

        var added = await store.AddAsync(caller, blockedId, time.GetUtcNow().UtcDateTime, cancellationToken);
        if (added is not { } block)
        {
            return DrfErrors.Field("user", $"Invalid pk \"{blockedId}\" - object does not exist.");
        }

        var response = BlockResponse.From(block.Block);
        return block.Created ? TypedResults.Created($"/api/v1/blocks/{response.Id}/", response) : TypedResults.Ok(response);
    }

    private static async Task<Results<NoContent, NotFound<DetailBody>>> UnblockAsync(
        string id, HttpContext http, BlockStore store, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var blockId) || !await store.RemoveAsync(http.User.UserId(), blockId, cancellationToken))
        {
            return DrfErrors.NotFound();
        }

        return TypedResults.NoContent();
    }
}

internal sealed record BlockRequest(string? User);

internal sealed record BlockResponse(Guid Id, Guid User, string Username, DateTime Created)
{
    public static BlockResponse From(UserBlock block) => new(block.Id, block.User, block.Username, block.Created);
}
