using System.Globalization;
using SitMessenger.Api.Accounts;
using SitMessenger.Api.Auth;
using SitMessenger.Api.Infrastructure;
using SitMessenger.Chat.Accounts;

namespace SitMessenger.Api.Apis;

/// <summary>Accounts and tokens, with djoser's and simplejwt's routes and answers.</summary>
internal static class AuthApi
{
    public const string BadCredentials = "No active account found with the given credentials";
    public const string InvalidToken = "Token is invalid or expired";
    public const string Blacklisted = "Token is blacklisted";
    public const string TokenNotValidCode = "token_not_valid";

    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        var auth = app.MapGroup("/api/auth").WithTags("Accounts and tokens");

        auth.MapPost("/users/", RegisterAsync).AllowAnonymous().WithSummary("Register an account");
        auth.MapGet("/users/me/", MeAsync).RequireAuthorization().WithSummary("The caller's account");
        auth.MapPost("/jwt/create/", LoginAsync).AllowAnonymous().WithSummary("Log in: a new access and refresh token");
        auth.MapPost("/jwt/refresh/", RefreshAsync).AllowAnonymous().WithSummary("Trade a refresh token for a new pair; the old one is revoked");
        auth.MapPost("/jwt/verify/", VerifyAsync).AllowAnonymous().WithSummary("Check a token");
        auth.MapPost("/jwt/logout/", LogoutAsync).AllowAnonymous().WithSummary("Revoke a login (its refresh and access tokens)");
        return app;
    }

    private static async Task<Results<Created<AccountResponse>, BadRequest<Dictionary<string, string[]>>, JsonHttpResult<DetailBody>>> RegisterAsync(
        RegisterRequest? body, HttpContext http, AccountPasswords users, LoginThrottle throttle, CancellationToken cancellationToken)
    {
        if (await throttle.CheckAttemptAsync(ClientAddress(http), username: null) is { } wait)
        {
            return Throttled(http, wait);
        }

        var errors = new FieldErrors();
        var username = errors.RequireText("username", body?.Username);
        var password = errors.RequireText("password", body?.Password, trim: false);
        var email = body?.Email?.Trim() ?? "";
        if (username is not null)
        {
            AccountRules.CheckUsername(username, errors);
        }

        if (email.Length > 0)
        {
            AccountRules.CheckEmail(email, errors);
        }

        if (password is not null)
        {
            AccountRules.CheckPassword(password, username ?? "", errors);
            if (body?.RePassword is { } repeated && repeated != password)
            {
                errors.Add("re_password", "The two password fields didn't match.");
            }
        }

        if (errors.Any || username is null || password is null)
        {
            return DrfErrors.Fields(errors);
        }

        var account = await users.CreateAsync(username, email, password, cancellationToken);
        if (account is null)
        {
            return DrfErrors.Field("username", "A user with that username already exists.");
        }

        // The address an account was made from is its owner's: it may still log in when strangers spent the budget.
        await throttle.RecordSuccessAsync(account.Username, ClientAddress(http));

        return TypedResults.Created("/api/auth/users/me/", new AccountResponse(account.Id, account.Username, account.Email));
    }

    private static async Task<Results<Ok<AccountResponse>, NotFound<DetailBody>>> MeAsync(HttpContext http, UserStore users, CancellationToken cancellationToken)
    {
        var account = await users.FindAsync(http.User.UserId(), cancellationToken);
        return account is null ? DrfErrors.NotFound() : TypedResults.Ok(new AccountResponse(account.Id, account.Username, account.Email));
    }

    private static async Task<Results<Ok<TokenPairResponse>, BadRequest<Dictionary<string, string[]>>, JsonHttpResult<DetailBody>>> LoginAsync(
        LoginRequest? body, HttpContext http, AccountPasswords users, RefreshTokenStore refreshTokens, LoginThrottle throttle,
        ApiTelemetry telemetry, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var username = errors.RequireText("username", body?.Username);
        var password = errors.RequireText("password", body?.Password, trim: false);
        if (username is null || password is null)
        {
            return DrfErrors.Fields(errors);
        }

        var address = ClientAddress(http);
        if (await throttle.CheckAttemptAsync(address, username) is { } wait)
        {
            telemetry.FailedLogins.Add(1, new KeyValuePair<string, object?>("reason", "throttled"));
            return Throttled(http, wait);
        }

        var account = await users.VerifyPasswordAsync(username, password, cancellationToken);
        if (account is null)
        {
            await throttle.RecordFailureAsync(username, address);
            telemetry.FailedLogins.Add(1, new KeyValuePair<string, object?>("reason", "credentials"));
            return Unauthorized(new DetailBody(BadCredentials));
        }

        await throttle.RecordSuccessAsync(username, address);
        telemetry.Logins.Add(1);
        var pair = await refreshTokens.IssueAsync(account.Id, account.Username, cancellationToken);
        return TypedResults.Ok(new TokenPairResponse(pair.Access, pair.Refresh));
    }

    private static async Task<Results<Ok<TokenPairResponse>, BadRequest<Dictionary<string, string[]>>, JsonHttpResult<TokenErrorBody>>> RefreshAsync(
        RefreshRequest? body, HttpContext http, TokenService tokens, RefreshTokenStore refreshTokens, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var token = errors.RequireText("refresh", body?.Refresh);
        if (token is null)
        {
            return DrfErrors.Fields(errors);
        }

        var presented = await tokens.ValidateAsync(token, TokenService.RefreshType);
        if (presented is null)
        {
            return Unauthorized(new TokenErrorBody(InvalidToken, TokenNotValidCode));
        }

        var result = await refreshTokens.RotateAsync(presented, cancellationToken);
        return result.Outcome switch
        {
            RotationOutcome.Rotated => TypedResults.Ok(new TokenPairResponse(result.Tokens!.Access, result.Tokens.Refresh)),
            RotationOutcome.Reused => Unauthorized(new TokenErrorBody(Blacklisted, TokenNotValidCode)),
            _ => Unauthorized(new TokenErrorBody(InvalidToken, TokenNotValidCode)),
        };
    }

    private static async Task<Results<Ok<EmptyResponse>, BadRequest<Dictionary<string, string[]>>, JsonHttpResult<TokenErrorBody>>> VerifyAsync(
        VerifyRequest? body, HttpContext http, TokenService tokens, RevokedTokenFamilies revoked, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var token = errors.RequireText("token", body?.Token);
        if (token is null)
        {
            return DrfErrors.Fields(errors);
        }

        var validated = await tokens.ValidateAsync(token, expectedType: null);
        if (validated is null || await revoked.IsRevokedAsync(validated.FamilyId, cancellationToken))
        {
            return Unauthorized(new TokenErrorBody(InvalidToken, TokenNotValidCode));
        }

        return TypedResults.Ok(new EmptyResponse());
    }

    private static async Task<Results<StatusCodeHttpResult, BadRequest<DetailBody>>> LogoutAsync(
        RefreshRequest? body, TokenService tokens, RefreshTokenStore refreshTokens, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(body?.Refresh))
        {
            return TypedResults.BadRequest(new DetailBody("A refresh token is required."));
        }

        var presented = await tokens.ValidateAsync(body.Refresh.Trim(), TokenService.RefreshType);
        if (presented is null || !await refreshTokens.RevokeFamilyAsync(presented, cancellationToken))
        {
            return TypedResults.BadRequest(new DetailBody(InvalidToken));
        }

        return TypedResults.StatusCode(StatusCodes.Status205ResetContent);
    }

    private static string ClientAddress(HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private static JsonHttpResult<DetailBody> Throttled(HttpContext http, TimeSpan wait)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Json(
            new DetailBody($"Request was throttled. Expected available in {seconds} seconds."),
            statusCode: StatusCodes.Status429TooManyRequests);
    }

    /// <summary>A 401 with a DRF body (TypedResults.Unauthorized has none).</summary>
    private static JsonHttpResult<TBody> Unauthorized<TBody>(TBody body) =>
        TypedResults.Json(body, statusCode: StatusCodes.Status401Unauthorized);
}

internal sealed record RegisterRequest(string? Username, string? Password, string? Email, string? RePassword);

internal sealed record LoginRequest(string? Username, string? Password);

internal sealed record RefreshRequest(string? Refresh);

internal sealed record VerifyRequest(string? Token);

internal sealed record AccountResponse(Guid Id, string Username, string Email);

internal sealed record TokenPairResponse(string Access, string Refresh);

internal sealed record EmptyResponse;
