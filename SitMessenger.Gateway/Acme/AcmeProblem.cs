using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace SitMessenger.Gateway.Acme;

/// <summary>An RFC 7807 problem document as ACME uses it (RFC 8555 section 6.7), subproblems included.</summary>
internal sealed record AcmeProblem(
    string? Type,
    string? Detail,
    int? Status,
    AcmeIdentifier? Identifier = null,
    AcmeProblem[]? Subproblems = null)
{
    public const string ErrorPrefix = "urn:ietf:params:acme:error:";
    public const string BadNonce = ErrorPrefix + "badNonce";

    public bool IsBadNonce => string.Equals(Type, BadNonce, StringComparison.Ordinal);

    /// <summary>
    /// Reads an error answer. A body that is not a problem document (a proxy's HTML page, say) still yields a problem,
    /// with the HTTP status and the start of the body, so the log says what happened.
    /// </summary>
    public static AcmeProblem Parse(ReadOnlySpan<byte> body, string? mediaType, HttpStatusCode status)
    {
        if (body.Length > 0 && (mediaType is null || mediaType.Contains("json", StringComparison.OrdinalIgnoreCase)))
        {
            try
            {
                var problem = JsonSerializer.Deserialize(body, AcmeJsonContext.Default.AcmeProblem);
                if (problem is not null && (problem.Type is not null || problem.Detail is not null))
                {
                    return problem with { Status = problem.Status ?? (int)status };
                }
            }
            catch (JsonException)
            {
                // Fall through: not a problem document after all.
            }
        }

        var text = Encoding.UTF8.GetString(body[..Math.Min(body.Length, 200)]).Trim();
        return new AcmeProblem(
            Type: null,
            Detail: string.Create(CultureInfo.InvariantCulture, $"HTTP {(int)status} {status}{(text.Length > 0 ? ": " + text : string.Empty)}"),
            Status: (int)status);
    }

    /// <summary>One line: type, detail and the subproblems with their identifiers.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.Append(Type ?? "(no type)");
        if (Identifier is not null)
        {
            text.Append(" [").Append(Identifier.Value).Append(']');
        }

        if (!string.IsNullOrEmpty(Detail))
        {
            text.Append(": ").Append(Detail);
        }

        if (Subproblems is { Length: > 0 })
        {
            text.Append(" (");
            text.AppendJoin("; ", Subproblems.Select(p => p.Describe()));
            text.Append(')');
        }

        return text.ToString();
    }
}

/// <summary>The CA refused a request or an authorization or order failed; carries the problem document.</summary>
internal sealed class AcmeProblemException : Exception
{
    public AcmeProblemException(AcmeProblem problem)
        : base("ACME problem: " + problem.Describe())
    {
        Problem = problem;
    }

    public AcmeProblemException(AcmeProblem problem, string context)
        : base(context + ": " + problem.Describe())
    {
        Problem = problem;
    }

    public AcmeProblem Problem { get; }
}
