using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace SitMessenger.Api.Infrastructure;

/// <summary>
/// Documents the answers every route can give besides its own: 401 for protected routes, the body errors
/// (400/413/415) where there is a body, 429 where throttled, 503 when PostgreSQL is down. The route handlers'
/// own result types describe their success answers and their 400/404s.
/// </summary>
internal sealed class ApiOperationTransformer : IOpenApiOperationTransformer
{
    private static readonly string[] Throttled = ["/api/auth/users/", "/api/auth/jwt/create/"];

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var path = "/" + (context.Description.RelativePath ?? "");
        operation.Responses ??= [];

        if (metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any())
        {
            Add(operation, "401", "No token, or a token that is forged, expired, revoked or of the wrong type: {\"detail\": ..., \"code\": \"token_not_valid\"}");
            operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("Bearer", context.Document)] = [] }];
        }

        if (path.StartsWith("/api/auth/jwt/refresh", StringComparison.Ordinal) || path.StartsWith("/api/auth/jwt/verify", StringComparison.Ordinal))
        {
            Add(operation, "401", "The token is invalid, expired or revoked; a reused refresh token revokes its whole login ({\"detail\": \"Token is blacklisted\"})");
        }

        if (path.StartsWith("/api/auth/jwt/create", StringComparison.Ordinal))
        {
            Add(operation, "401", "{\"detail\": \"No active account found with the given credentials\"}");
        }

        if (path.StartsWith("/api/auth/jwt/logout", StringComparison.Ordinal))
        {
            Add(operation, "205", "The login is revoked: its refresh and access tokens no longer work");
        }

        if (Throttled.Any(route => string.Equals(path.TrimEnd('/'), route.TrimEnd('/'), StringComparison.Ordinal)))
        {
            Add(operation, "429", "Too many attempts for this username or from this address; Retry-After says when to try again");
        }

        if (operation.RequestBody is not null)
        {
            Add(operation, "400", "Malformed JSON ({\"detail\": \"JSON parse error - ...\"}) or field errors ({\"field\": [\"...\"]})");
            Add(operation, "413", "The body is over 64 KiB");
            Add(operation, "415", "The body is not application/json");
        }

        if (!path.StartsWith("/api/v1/ping", StringComparison.Ordinal))
        {
            Add(operation, "503", "PostgreSQL is unreachable; nothing was saved. Retry-After says when to try again");
        }

        return Task.CompletedTask;
    }

    private static void Add(OpenApiOperation operation, string status, string description)
    {
        if (!operation.Responses!.ContainsKey(status))
        {
            operation.Responses[status] = new OpenApiResponse { Description = description };
        }
    }
}
