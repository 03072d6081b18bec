using System.Net;
using System.Text;
using SitMessenger.Gateway.Acme;

namespace SitMessenger.UnitTests.Acme;

public sealed class AcmeProblemTests
{
    [Fact]
    public void A_problem_document_with_subproblems_is_read_whole()
    {
        // RFC 8555 section 6.7.1's example.
        var body = """
            {
                "type": "urn:ietf:params:acme:error:malformed",
                "detail": "Some of the identifiers requested were rejected",
                "subproblems": [
                    {
                        "type": "urn:ietf:params:acme:error:malformed",
                        "detail": "Invalid underscore in DNS name \"_example.org\"",
                        "identifier": { "type": "dns", "value": "_example.org" }
                    },
                    {
                        "type": "urn:ietf:params:acme:error:rejectedIdentifier",
                        "detail": "This CA will not issue for \"example.net\"",
                        "identifier": { "type": "dns", "value": "example.net" }
                    }
                ]
            }
            """;

        var problem = AcmeProblem.Parse(Encoding.UTF8.GetBytes(body), "application/problem+json", HttpStatusCode.Forbidden);

        Assert.Equal("urn:ietf:params:acme:error:malformed", problem.Type);
        Assert.Equal("Some of the identifiers requested were rejected", problem.Detail);
        Assert.Equal(403, problem.Status);
        Assert.Equal(2, problem.Subproblems!.Length);
        Assert.Equal("example.net", problem.Subproblems[1].Identifier!.Value);
        Assert.Equal("urn:ietf:params:acme:error:rejectedIdentifier", problem.Subproblems[1].Type);
        var message = new AcmeProblemException(problem).Message;
        Assert.Contains("urn:ietf:params:acme:error:malformed", message, StringComparison.Ordinal);
        Assert.Contains("Some of the identifiers requested were rejected", message, StringComparison.Ordinal);
        Assert.Contains("[example.net]", message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_status_in_the_document_wins_and_bad_nonce_is_recognised()
    {
        var problem = AcmeProblem.Parse(
            """{"type":"urn:ietf:params:acme:error:badNonce","detail":"JWS has an invalid anti-replay nonce","status":400,"extra":1}"""u8,
            "application/problem+json",
            HttpStatusCode.BadRequest);

        Assert.True(problem.IsBadNonce);
        Assert.Equal(400, problem.Status);
    }

    [Fact]
    public void An_answer_that_is_not_a_problem_document_still_says_what_happened()
    {
        var problem = AcmeProblem.Parse("<html>Bad Gateway</html>"u8, "text/html", HttpStatusCode.BadGateway);

        Assert.Null(problem.Type);
        Assert.Equal(502, problem.Status);
        Assert.Contains("502", problem.Detail, StringComparison.Ordinal);
        Assert.Contains("Bad Gateway", problem.Detail, StringComparison.Ordinal);
        Assert.False(problem.IsBadNonce);
    }

    [Fact]
    public void Broken_json_falls_back_to_the_status()
    {
        var problem = AcmeProblem.Parse("{not json"u8, "application/problem+json", HttpStatusCode.InternalServerError);

        Assert.Equal(500, problem.Status);
        Assert.Contains("{not json", problem.Detail, StringComparison.Ordinal);
    }
}
