using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>The operator credential (configuration section <c>Operator</c>; the AppHost injects <c>Operator__Key</c>).</summary>
public sealed class OperatorOptions
{
    public const string SectionName = "Operator";

    /// <summary>The secret an operator action must present; without one configured every action is refused.</summary>
    public string? Key { get; set; }
}

/// <summary>
/// The guard on operator actions (requeue dead letters, run a job now): <c>Authorization: Bearer {Operator:Key}</c>.
/// Anyone who reaches a service's port could otherwise trigger them; a cross-site form cannot send the header either.
/// </summary>
public static class OperatorKey
{
    public const string MissingDetail = "Authentication credentials were not provided.";
    public const string WrongDetail = "Invalid operator key.";
    public const string NotConfiguredDetail = "Operator actions are disabled: no Operator:Key is configured.";

    private const string Scheme = "Bearer ";

    /// <summary>Answers 401 with a <c>{"detail": ...}</c> body, before the handler runs, unless the request carries the key.</summary>
    public static TBuilder RequireOperatorKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var configured = http.RequestServices.GetRequiredService<IOptionsMonitor<OperatorOptions>>().CurrentValue.Key;
            var refusal = Check(http.Request.Headers.Authorization.ToString(), configured);
            if (refusal is null)
            {
                return await next(context);
            }

            http.Response.Headers.WWWAuthenticate = "Bearer";
            return TypedResults.Json(new ActionRefused(refusal), statusCode: StatusCodes.Status401Unauthorized);
        });
    }

    /// <summary>Null when <paramref name="authorization"/> carries <paramref name="configured"/>; otherwise why not.</summary>
    public static string? Check(string? authorization, string? configured)
    {
        if (string.IsNullOrEmpty(configured))
        {
            return NotConfiguredDetail;
        }

        if (string.IsNullOrEmpty(authorization) || !authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return MissingDetail;
        }

        return new SharedSecret(configured).Matches(authorization[Scheme.Length..].Trim()) ? null : WrongDetail;
    }
}
