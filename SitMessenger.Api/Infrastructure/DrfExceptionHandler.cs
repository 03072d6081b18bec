using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace SitMessenger.Api.Infrastructure;

/// <summary>
/// Turns request-binding failures and outages into the error bodies clients expect, with the right status:
/// bad JSON 400, wrong media type 415, oversize 413, PostgreSQL unreachable 503. Nothing is half-done on these
/// paths: every write is a single statement or transaction that either committed before the answer or did not.
/// </summary>
internal sealed partial class DrfExceptionHandler(NpgsqlDataSource database, ILogger<DrfExceptionHandler> logger) : IExceptionHandler
{
    public const string StoreUnavailable = "The message store is unavailable; nothing was saved. Try again shortly.";

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, body) = Describe(exception, httpContext);
        if (status >= 500)
        {
            LogServerError(logger, httpContext.Request.Method, httpContext.Request.Path, status, exception);
        }

        httpContext.Response.StatusCode = status;
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            httpContext.Response.Headers.RetryAfter = "5";
            if (!IsConnectionLimit(exception))
            {
                // After a PostgreSQL restart every idle pooled connection is dead; drop them all at the first failure
                // instead of letting each one fail a request of its own. Not when the server refused a new connection
                // for want of slots: the pooled ones are sound, and reopening them would only add to the crowd.
                database.Clear();
            }
        }

        await httpContext.Response.WriteAsJsonAsync(body, body.GetType(), cancellationToken);
        return true;
    }

    private static (int Status, object Body) Describe(Exception exception, HttpContext context) => exception switch
    {
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
            (StatusCodes.Status413PayloadTooLarge, DrfErrors.Detail("Request body is too large.")),
        BadHttpRequestException { StatusCode: StatusCodes.Status415UnsupportedMediaType } =>
            (StatusCodes.Status415UnsupportedMediaType, DrfErrors.Detail($"Unsupported media type \"{context.Request.ContentType}\" in request.")),
        BadHttpRequestException { InnerException: JsonException json } => JsonProblem(json),
        BadHttpRequestException bad => (bad.StatusCode, DrfErrors.Detail(bad.Message)),
        SitMessenger.Chat.Storage.CorruptSegmentException or SitMessenger.Chat.Storage.SegmentNotFoundException or SitMessenger.Chat.Crypto.InvalidFernetTokenException =>
            (StatusCodes.Status500InternalServerError, DrfErrors.Detail("Part of this chat's stored history failed its integrity check and was not served. The operator has been alerted.")),
        _ when IsStoreOutage(exception) => (StatusCodes.Status503ServiceUnavailable, DrfErrors.Detail(StoreUnavailable)),
        _ => (StatusCodes.Status500InternalServerError, DrfErrors.Detail("A server error occurred.")),
    };

    /// <summary>A value of the wrong type names its field, as DRF does; anything else is a parse error.</summary>
    private static (int, object) JsonProblem(JsonException json)
    {
        if (json.Path is { Length: > 2 } path
            && path.StartsWith("$.", StringComparison.Ordinal)
            && !path.AsSpan(2).ContainsAny('.', '[')
            && json.Message.Contains("could not be converted", StringComparison.Ordinal))
        {
            return (StatusCodes.Status400BadRequest, new Dictionary<string, string[]> { [path[2..]] = [DrfErrors.NotAString] });
        }

        return (StatusCodes.Status400BadRequest, DrfErrors.Detail("JSON parse error - " + json.Message.Split(" Path:")[0]));
    }

    private static bool IsStoreOutage(Exception exception) => Causes(exception).Any(cause =>
        cause is NpgsqlException { IsTransient: true } or SocketException or TimeoutException
        || (cause is NpgsqlException && cause is not PostgresException));

    private static bool IsConnectionLimit(Exception exception) => Causes(exception).Any(cause =>
        cause is PostgresException { SqlState: PostgresErrorCodes.TooManyConnections });

    /// <summary>The exception and the ones it wraps: Npgsql wraps socket failures, ASP.NET Core wraps Npgsql's.</summary>
    private static IEnumerable<Exception> Causes(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            yield return current;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} {Path} failed with {Status}")]
    private static partial void LogServerError(ILogger logger, string method, PathString path, int status, Exception exception);
}
