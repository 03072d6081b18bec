using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace SitMessenger.UnitTests.Acme;

/// <summary>
/// A scripted ACME CA in a message handler: checks every JWS (nonce fresh and single-use, url header equal to the
/// request URL, jwk only on newAccount, signature valid), and walks one order through pending, ready, processing, valid.
/// </summary>
internal sealed class FakeCa(TestCertificates ca) : HttpMessageHandler
{
    public const string Base = "https://ca.test";

    private readonly ConcurrentDictionary<string, bool> _issuedNonces = new();
    private int _nonceCounter;
    private bool _challengeAnswered;
    private int _orderPolls;

    public static Uri DirectoryUrl { get; } = new(Base + "/dir");

    /// <summary>How many of the next signed requests to refuse with badNonce.</summary>
    public int BadNoncesToSend { get; set; }

    public int BadNoncesSent { get; private set; }

    public int NonceRequests { get; private set; }

    public List<string> Log { get; } = [];

    public string? PublishedKeyAuthorization { get; set; }

    public byte[]? Csr { get; private set; }

    public string? AccountThumbprint { get; private set; }

    public string Token { get; } = "tok_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var path = request.RequestUri!.AbsolutePath;
        Log.Add(request.Method + " " + path);
        if (request.Method == HttpMethod.Get && path == "/dir")
        {
            return Json(HttpStatusCode.OK, $$$"""
                {"newNonce":"{{{Base}}}/nonce","newAccount":"{{{Base}}}/acct","newOrder":"{{{Base}}}/order","meta":{"termsOfService":"{{{Base}}}/tos"}}
                """, withNonce: false);
        }

        if (request.Method == HttpMethod.Head && path == "/nonce")
        {
            NonceRequests++;
            return WithNonce(new HttpResponseMessage(HttpStatusCode.OK));
        }

        if (request.Method != HttpMethod.Post)
        {
            return new HttpResponseMessage(HttpStatusCode.MethodNotAllowed);
        }

        Assert.Equal("application/jose+json", request.Content!.Headers.ContentType!.MediaType);
        using var jws = JsonDocument.Parse(await request.Content.ReadAsByteArrayAsync(cancellationToken));
        var protectedHeader = jws.RootElement.GetProperty("protected").GetString()!;
        var payloadText = jws.RootElement.GetProperty("payload").GetString()!;
        using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(protectedHeader));
        var nonce = header.RootElement.GetProperty("nonce").GetString()!;
        Assert.Equal(request.RequestUri.AbsoluteUri, header.RootElement.GetProperty("url").GetString());
        Assert.Equal("ES256", header.RootElement.GetProperty("alg").GetString());
        Assert.Equal(path == "/acct", header.RootElement.TryGetProperty("jwk", out var jwk));
        if (path == "/acct")
        {
            AccountThumbprint = Verify(jwk, protectedHeader, payloadText, jws.RootElement.GetProperty("signature").GetString()!);
        }
        else
        {
            Assert.Equal(Base + "/acct/1", header.RootElement.GetProperty("kid").GetString());
        }

        if (!_issuedNonces.TryRemove(nonce, out _))
        {
            return Problem("badNonce", "unknown or reused nonce");
        }

        if (BadNoncesToSend > 0)
        {
            BadNoncesToSend--;
            BadNoncesSent++;
            return Problem("badNonce", "JWS has an invalid anti-replay nonce");
        }

        var payload = payloadText.Length == 0 ? null : JsonDocument.Parse(Base64Url.DecodeFromChars(payloadText));
        using (payload)
        {
            return path switch
            {
                "/acct" => Created("/acct/1", """{"status":"valid"}"""),
                "/order" => Created("/order/1", Order("pending")),
                "/authz/1" => Json(HttpStatusCode.OK, Authorization()),
                "/chall/1" => AnswerChallenge(payload),
                "/order/1" => Json(HttpStatusCode.OK, Order(_challengeAnswered ? (Csr is null ? "ready" : (++_orderPolls < 2 ? "processing" : "valid")) : "pending")),
                "/order/1/finalize" => Finalize(payload!),
                "/cert/1" => Certificate(request),
                _ => new HttpResponseMessage(HttpStatusCode.NotFound),
            };
        }
    }

    private HttpResponseMessage AnswerChallenge(JsonDocument? payload)
    {
        Assert.NotNull(payload);
        Assert.Equal(JsonValueKind.Object, payload.RootElement.ValueKind);
        Assert.Empty(payload.RootElement.EnumerateObject());
        // The CA "validates": the answer published for the token must be the key authorization.
        Assert.Equal(Token + "." + AccountThumbprint, PublishedKeyAuthorization);
        _challengeAnswered = true;
        return Json(HttpStatusCode.OK, $$"""{"type":"http-01","url":"{{Base}}/chall/1","status":"processing","token":"{{Token}}"}""");
    }

    private HttpResponseMessage Finalize(JsonDocument payload)
    {
        Csr = Base64Url.DecodeFromChars(payload.RootElement.GetProperty("csr").GetString()!);
        return Json(HttpStatusCode.OK, Order("processing"));
    }

    private HttpResponseMessage Certificate(HttpRequestMessage request)
    {
        Assert.Contains(request.Headers.Accept, a => a.MediaType == "application/pem-certificate-chain");
        var csr = CertificateRequest.LoadSigningRequest(Csr!, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        var now = DateTimeOffset.UtcNow;
        using var leaf = csr.Create(ca.Intermediate, now.AddMinutes(-1), now.AddDays(90), [9, 8, 7, 6]);
        var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(ca.PemChain(leaf), Encoding.ASCII, "application/pem-certificate-chain") };
        return WithNonce(response);
    }

    private string Order(string status)
    {
        var certificate = status == "valid" ? $",\"certificate\":\"{Base}/cert/1\"" : string.Empty;
        return $$"""
            {"status":"{{status}}","identifiers":[{"type":"dns","value":"sit.example"}],"authorizations":["{{Base}}/authz/1"],"finalize":"{{Base}}/order/1/finalize"{{certificate}}}
            """;
    }

    private string Authorization()
    {
        var status = _challengeAnswered ? "valid" : "pending";
        return $$"""
            {"identifier":{"type":"dns","value":"sit.example"},"status":"{{status}}","challenges":[
              {"type":"dns-01","url":"{{Base}}/chall/0","status":"pending","token":"other"},
              {"type":"http-01","url":"{{Base}}/chall/1","status":"pending","token":"{{Token}}"}]}
            """;
    }

    private static string Verify(JsonElement jwk, string protectedHeader, string payload, string signature)
    {
        using var key = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = Base64Url.DecodeFromChars(jwk.GetProperty("x").GetString()!), Y = Base64Url.DecodeFromChars(jwk.GetProperty("y").GetString()!) },
        });
        Assert.True(key.VerifyData(
            Encoding.ASCII.GetBytes(protectedHeader + "." + payload), Base64Url.DecodeFromChars(signature), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
        var canonical = $$"""{"crv":"P-256","kty":"EC","x":"{{jwk.GetProperty("x").GetString()}}","y":"{{jwk.GetProperty("y").GetString()}}"}""";
        return Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    private HttpResponseMessage Created(string location, string json)
    {
        var response = Json(HttpStatusCode.Created, json);
        response.Headers.Location = new Uri(Base + location);
        return response;
    }

    private HttpResponseMessage Problem(string type, string detail)
    {
        var response = new HttpResponseMessage(HttpStatusCode.BadRequest)
        {
            Content = new StringContent($$"""{"type":"urn:ietf:params:acme:error:{{type}}","detail":"{{detail}}","status":400}""", Encoding.UTF8, "application/problem+json"),
        };
        return WithNonce(response);
    }

    private HttpResponseMessage Json(HttpStatusCode status, string json, bool withNonce = true)
    {
        var response = new HttpResponseMessage(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        return withNonce ? WithNonce(response) : response;
    }

    private HttpResponseMessage WithNonce(HttpResponseMessage response)
    {
        var nonce = "n" + Interlocked.Increment(ref _nonceCounter).ToString(CultureInfo.InvariantCulture);
        _issuedNonces[nonce] = true;
        response.Headers.Add("Replay-Nonce", nonce);
        return response;
    }
}
