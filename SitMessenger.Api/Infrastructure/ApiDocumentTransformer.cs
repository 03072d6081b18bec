using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace SitMessenger.Api.Infrastructure;

/// <summary>Titles the OpenAPI document and declares the bearer scheme every protected route uses.</summary>
internal sealed class ApiDocumentTransformer : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "SIT Messenger API",
            Version = "v1",
            Description = "Encrypted chat backend. Errors use Django REST framework shapes: {\"detail\": ...} or {\"field\": [...]}.",
        };
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes["Bearer"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "Access token from POST /api/auth/jwt/create/",
        };
        return Task.CompletedTask;
    }
}
