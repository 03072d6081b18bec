using SitMessenger.Api.Accounts;
using SitMessenger.Api.Auth;
using SitMessenger.Api.Infrastructure;
using SitMessenger.Chat.Accounts;

namespace SitMessenger.Api.Apis;

internal static class UsersApi
{
    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/api/v1").RequireAuthorization();

        v1.MapGet("/users/", async (UserStore users, CancellationToken cancellationToken) =>
                TypedResults.Ok(await users.ListAsync(cancellationToken)))
            .WithTags("Users").WithSummary("Every user");

        v1.MapGet("/users/me/", (HttpContext http) => TypedResults.Ok(new UserSummary(http.User.UserId(), http.User.Username())))
            .WithTags("Users").WithSummary("The caller");

        v1.MapGet("/friends/", async (HttpContext http, UserStore users, CancellationToken cancellationToken) =>
                TypedResults.Ok(await users.ListFriendsAsync(http.User.UserId(), cancellationToken)))
            .WithTags("Friends").WithSummary("The caller's friends");

        v1.MapPost("/friends/", SetFriendsAsync)
            .WithTags("Friends").WithSummary("Replace the caller's friends with the given users");
        return app;
    }

    private static async Task<Results<Created<IReadOnlyList<UserSummary>>, BadRequest<Dictionary<string, string[]>>>> SetFriendsAsync(
        SetFriendsRequest? body, HttpContext http, UserStore users, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var ids = UserIdList.Parse("users_uuid", body?.UsersUuid, errors);
        var caller = http.User.UserId();
        if (ids.Contains(caller))
        {
            errors.Add("users_uuid", "You cannot be your own friend.");
        }

        if (!errors.Any)
        {
            foreach (var unknown in await users.FindUnknownAsync(ids, cancellationToken))
            {
                errors.Add("users_uuid", $"Invalid pk \"{unknown}\" - object does not exist.");
            }
        }

        if (errors.Any)
        {
            return DrfErrors.Fields(errors);
        }

        await users.ReplaceFriendsAsync(caller, ids, cancellationToken);
        return TypedResults.Created("/api/v1/friends/", await users.ListFriendsAsync(caller, cancellationToken));
    }
}

internal sealed record SetFriendsRequest(string? UsersUuid);
