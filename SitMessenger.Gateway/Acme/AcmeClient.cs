using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace SitMessenger.Gateway.Acme;

/// <summary>Timing of one <see cref="AcmeClient"/>; from <see cref="AcmeOptions"/> in the Gateway.</summary>
internal sealed record AcmeClientSettings(TimeSpan PollInterval, TimeSpan ValidationTimeout)
{
    public static AcmeClientSettings Default { get; } = new(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(2));
}

/// <summary>
/// An RFC 8555 client for one account on one CA: directory, nonces, JWS-signed requests, account, order,
/// HTTP-01 (or TLS-ALPN-01) validation, finalization and download. Not thread-safe: one order at a time.
/// </summary>
internal sealed partial class AcmeClient
{
    /// <summary>RFC 8555 section 6.5: badNonce is retryable; a CA that keeps rejecting is not worth more than this.</summary>
    public const int MaxBadNonceRetries = 5;

    private const string JoseJson = "application/jose+json";

    private readonly HttpClient _http;
    private readonly Uri _directoryUrl;
    private readonly AcmeAccountKey _key;
    private readonly AcmeClientSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private AcmeDirectory? _directory;
    private string? _nonce;

    public AcmeClient(HttpClient http, Uri directoryUrl, AcmeAccountKey key, ILogger logger, AcmeClientSettings? settings = null, TimeProvider? time = null)
    {
        _http = http;
        _directoryUrl = directoryUrl;
        _key = key;
        _logger = logger;
        _settings = settings ?? AcmeClientSettings.Default;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The account URL, used as <c>kid</c> once the account exists.</summary>
    public string? AccountUrl { get; private set; }

    public AcmeAccountKey AccountKey => _key;

    public async Task<AcmeDirectory> GetDirectoryAsync(CancellationToken cancellationToken)
    {
        if (_directory is not null)
        {
            return _directory;
        }

        using var response = await _http.GetAsync(_directoryUrl, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new AcmeProblemException(
                AcmeProblem.Parse(body, response.Content.Headers.ContentType?.MediaType, response.StatusCode), "Fetching the ACME directory failed");
        }

        _directory = JsonSerializer.Deserialize(body, AcmeJsonContext.Default.AcmeDirectory)
            ?? throw new InvalidOperationException("The ACME directory is empty.");
        return _directory;
    }

    /// <summary>
    /// Creates the account, or finds it: newAccount with a key that already has an account answers 200 with its URL
    /// (RFC 8555 section 7.3.1), so a restarted Gateway reuses its account without extra state.
    /// </summary>
    public async Task<string> CreateOrGetAccountAsync(string? email, bool termsOfServiceAgreed, CancellationToken cancellationToken)
    {
        var directory = await GetDirectoryAsync(cancellationToken);
        var request = new AcmeNewAccountRequest(
            termsOfServiceAgreed,
            string.IsNullOrEmpty(email) ? null : ["mailto:" + email]);
        var payload = JsonSerializer.SerializeToUtf8Bytes(request, AcmeJsonContext.Default.AcmeNewAccountRequest);
        var response = await PostAsync(directory.NewAccount, payload, useJwk: true, cancellationToken);
        AccountUrl = response.Location?.AbsoluteUri
            ?? throw new InvalidOperationException("The CA answered newAccount without a Location (the account URL).");
        LogAccount(_logger, AccountUrl, response.Status == HttpStatusCode.Created ? "created" : "found");
        return AccountUrl;
    }

    public async Task<(Uri Url, AcmeOrderResource Order)> NewOrderAsync(IReadOnlyList<string> domains, CancellationToken cancellationToken)
    {
        var directory = await GetDirectoryAsync(cancellationToken);
        var request = new AcmeNewOrderRequest(domains.Select(AcmeIdentifier.Dns).ToArray());
        var payload = JsonSerializer.SerializeToUtf8Bytes(request, AcmeJsonContext.Default.AcmeNewOrderRequest);
        var response = await PostAsync(directory.NewOrder, payload, useJwk: false, cancellationToken);
        var url = response.Location ?? throw new InvalidOperationException("The CA answered newOrder without a Location (the order URL).");
        return (url, response.Read(AcmeJsonContext.Default.AcmeOrderResource));
    }

    public async Task<AcmeAuthorizationResource> GetAuthorizationAsync(Uri url, CancellationToken cancellationToken) =>
        (await PostAsGetAsync(url, cancellationToken)).Read(AcmeJsonContext.Default.AcmeAuthorizationResource);

    public async Task<AcmeOrderResource> GetOrderAsync(Uri url, CancellationToken cancellationToken) =>
        (await PostAsGetAsync(url, cancellationToken)).Read(AcmeJsonContext.Default.AcmeOrderResource);

    /// <summary>Tells the CA the challenge is ready: POST of "{}" to the challenge URL (RFC 8555 section 7.5.1).</summary>
    public async Task<AcmeChallengeResource> RespondToChallengeAsync(Uri challengeUrl, CancellationToken cancellationToken) =>
        (await PostAsync(challengeUrl, "{}"u8.ToArray(), useJwk: false, cancellationToken)).Read(AcmeJsonContext.Default.AcmeChallengeResource);

    /// <summary>Polls until the authorization is valid; invalid (or any other final state) throws with the challenge's error.</summary>
    public async Task<AcmeAuthorizationResource> WaitForAuthorizationAsync(Uri url, CancellationToken cancellationToken)
    {
        var deadline = _time.GetUtcNow() + _settings.ValidationTimeout;
        while (true)
        {
            var response = await PostAsGetAsync(url, cancellationToken);
            var authorization = response.Read(AcmeJsonContext.Default.AcmeAuthorizationResource);
            switch (authorization.Status)
            {
                case AcmeStatus.Valid:
                    return authorization;
                case AcmeStatus.Pending:
                    await PauseAsync(response.RetryAfter, deadline, $"authorization for {authorization.Identifier.Value}", cancellationToken);
                    break;
                default:
                    var failed = authorization.Challenges.FirstOrDefault(c => c.Error is not null)?.Error
                        ?? new AcmeProblem(null, $"authorization is {authorization.Status}", null);
                    throw new AcmeProblemException(
                        failed with { Identifier = failed.Identifier ?? authorization.Identifier },
                        $"Authorization for {authorization.Identifier.Value} failed");
            }
        }
    }

    /// <summary>Polls while the order is in <paramref name="waitWhile"/>; returns it in any other state.</summary>
    public async Task<AcmeOrderResource> WaitForOrderAsync(Uri url, string waitWhile, CancellationToken cancellationToken)
    {
        var deadline = _time.GetUtcNow() + _settings.ValidationTimeout;
        while (true)
        {
            var response = await PostAsGetAsync(url, cancellationToken);
            var order = response.Read(AcmeJsonContext.Default.AcmeOrderResource);
            if (order.Status != waitWhile)
            {
                return order;
            }

            await PauseAsync(response.RetryAfter, deadline, "order", cancellationToken);
        }
    }

    public async Task<AcmeOrderResource> FinalizeAsync(Uri finalizeUrl, byte[] csrDer, CancellationToken cancellationToken)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(new AcmeFinalizeRequest(Base64Url.EncodeToString(csrDer)), AcmeJsonContext.Default.AcmeFinalizeRequest);
        return (await PostAsync(finalizeUrl, payload, useJwk: false, cancellationToken)).Read(AcmeJsonContext.Default.AcmeOrderResource);
    }

    /// <summary>The certificate chain as PEM: leaf first, then the intermediates (RFC 8555 section 7.4.2).</summary>
    public async Task<string> DownloadCertificateAsync(Uri certificateUrl, CancellationToken cancellationToken)
    {
        var response = await PostAsGetAsync(certificateUrl, cancellationToken, accept: "application/pem-certificate-chain");
        return System.Text.Encoding.ASCII.GetString(response.Body);
    }

    /// <summary>
    /// The whole issuance: account, order, one challenge per pending authorization (answers published through
    /// <paramref name="solver"/> for as long as the CA validates), CSR with a fresh certificate key, download.
    /// </summary>
    public async Task<IssuedCertificate> OrderCertificateAsync(
        IReadOnlyList<string> domains,
        IAcmeChallengeSolver solver,
        string? email,
        bool termsOfServiceAgreed,
        string? pfxPassword,
        CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfZero(domains.Count);
        if (AccountUrl is null)
        {
            await CreateOrGetAccountAsync(email, termsOfServiceAgreed, cancellationToken);
        }

        var (orderUrl, order) = await NewOrderAsync(domains, cancellationToken);
        LogOrder(_logger, orderUrl, string.Join(", ", domains), order.Status);

        foreach (var authorizationUrl in order.Authorizations)
        {
            await AuthorizeAsync(authorizationUrl, solver, cancellationToken);
        }

        order = await WaitForOrderAsync(orderUrl, AcmeStatus.Pending, cancellationToken);
        // A certificate key per certificate: the account key never leaves its one job, and a leaked
        // certificate key is replaced at the next renewal.
        using var certificateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        if (order.Status == AcmeStatus.Ready)
        {
            order = await FinalizeAsync(order.Finalize, CreateCsr(domains, certificateKey), cancellationToken);
        }

        if (order.Status is AcmeStatus.Processing or AcmeStatus.Ready)
        {
            order = await WaitForOrderAsync(orderUrl, order.Status, cancellationToken);
        }

        if (order.Status != AcmeStatus.Valid || order.Certificate is null)
        {
            throw new AcmeProblemException(
                order.Error ?? new AcmeProblem(null, $"order ended {order.Status} without a certificate", null),
                "The order failed");
        }

        var pem = await DownloadCertificateAsync(order.Certificate, cancellationToken);
        return IssuedCertificate.FromPem(pem, certificateKey, pfxPassword);
    }

    /// <summary>A DER PKCS#10 request: every name as a DNS SAN, the first also as CN (some CAs still show it).</summary>
    public static byte[] CreateCsr(IReadOnlyList<string> domains, ECDsa certificateKey)
    {
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(domains[0]);
        var request = new CertificateRequest(subject.Build(), certificateKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        foreach (var domain in domains)
        {
            names.AddDnsName(domain);
        }

        request.CertificateExtensions.Add(names.Build());
        return request.CreateSigningRequest();
    }

    private async Task AuthorizeAsync(Uri authorizationUrl, IAcmeChallengeSolver solver, CancellationToken cancellationToken)
    {
        var authorization = await GetAuthorizationAsync(authorizationUrl, cancellationToken);
        if (authorization.Status == AcmeStatus.Valid)
        {
            // The CA reused an earlier validation (RFC 8555 section 7.1.3 allows it).
            return;
        }

        if (authorization.Status != AcmeStatus.Pending)
        {
            throw new AcmeProblemException(
                new AcmeProblem(null, $"authorization is {authorization.Status}", null, authorization.Identifier),
                $"Authorization for {authorization.Identifier.Value} cannot be completed");
        }

        var challenge = solver.SupportedTypes
            .Select(type => authorization.Challenges.FirstOrDefault(c => c.Type == type && c.Token is not null))
            .FirstOrDefault(c => c is not null)
            ?? throw new AcmeProblemException(
                new AcmeProblem(null, "the CA offers none of the challenge types " + string.Join(", ", solver.SupportedTypes), null, authorization.Identifier),
                $"Authorization for {authorization.Identifier.Value} cannot be completed");

        var keyAuthorization = _key.KeyAuthorization(challenge.Token!);
        await solver.PublishAsync(challenge.Type, authorization.Identifier.Value, challenge.Token!, keyAuthorization, cancellationToken);
        try
        {
            LogChallenge(_logger, challenge.Type, authorization.Identifier.Value);
            if (challenge.Status == AcmeStatus.Pending)
            {
                await RespondToChallengeAsync(challenge.Url, cancellationToken);
            }

            await WaitForAuthorizationAsync(authorizationUrl, cancellationToken);
        }
        finally
        {
            // The answer is only needed while the CA validates; do not let a cancelled order keep it published.
            await solver.RemoveAsync(challenge.Type, authorization.Identifier.Value, challenge.Token!, CancellationToken.None);
        }
    }

    private async Task PauseAsync(TimeSpan? retryAfter, DateTimeOffset deadline, string what, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (now >= deadline)
        {
            throw new TimeoutException($"The {what} was still pending after {_settings.ValidationTimeout}.");
        }

        // Retry-After is the CA's wish (RFC 8555 section 8.2); never poll faster than it, nor sleep past the deadline.
        var delay = retryAfter is { } wanted && wanted > _settings.PollInterval ? wanted : _settings.PollInterval;
        if (now + delay > deadline)
        {
            delay = deadline - now;
        }

        await Task.Delay(delay, _time, cancellationToken);
    }

    private Task<AcmeResponse> PostAsGetAsync(Uri url, CancellationToken cancellationToken, string? accept = null) =>
        PostAsync(url, payload: null, useJwk: false, cancellationToken, accept);

    /// <summary>
    /// One signed POST. Every answer, errors included, carries the next nonce; a badNonce answer is retried with it
    /// (RFC 8555 section 6.5) at most <see cref="MaxBadNonceRetries"/> times.
    /// </summary>
    private async Task<AcmeResponse> PostAsync(Uri url, byte[]? payload, bool useJwk, CancellationToken cancellationToken, string? accept = null)
    {
        string? keyId = null;
        if (!useJwk)
        {
            keyId = AccountUrl ?? throw new InvalidOperationException("No ACME account yet: call CreateOrGetAccountAsync first.");
        }

        for (var attempt = 0; ; attempt++)
        {
            var nonce = await TakeNonceAsync(cancellationToken);
            var body = AcmeJws.Sign(_key, url, nonce, keyId, payload, postAsGet: payload is null);
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(JoseJson);
            if (accept is not null)
            {
                request.Headers.Accept.ParseAdd(accept);
            }

            using var response = await _http.SendAsync(request, cancellationToken);
            KeepNonce(response);
            var content = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return new AcmeResponse(response.StatusCode, content, response.Headers.Location is { } location ? new Uri(url, location) : null, RetryAfter(response));
            }

            var problem = AcmeProblem.Parse(content, response.Content.Headers.ContentType?.MediaType, response.StatusCode);
            if (problem.IsBadNonce && attempt < MaxBadNonceRetries)
            {
                LogBadNonce(_logger, url, attempt + 1);
                continue;
            }

            throw new AcmeProblemException(problem, $"POST {url.AbsolutePath} failed");
        }
    }

    private async Task<string> TakeNonceAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _nonce, null) is { } nonce)
        {
            return nonce;
        }

        // No nonce left from an earlier answer: ask for one (RFC 8555 section 7.2).
        var directory = await GetDirectoryAsync(cancellationToken);
        using var request = new HttpRequestMessage(HttpMethod.Head, directory.NewNonce);
        using var response = await _http.SendAsync(request, cancellationToken);
        return ReadNonce(response) ?? throw new InvalidOperationException($"The CA's newNonce answered {(int)response.StatusCode} without a Replay-Nonce.");
    }

    private void KeepNonce(HttpResponseMessage response)
    {
        if (ReadNonce(response) is { } nonce)
        {
            _nonce = nonce;
        }
    }

    private static string? ReadNonce(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Replay-Nonce", out var values) ? values.FirstOrDefault() : null;

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - _time.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "ACME account {AccountUrl} {Outcome}")]
    private static partial void LogAccount(ILogger logger, string accountUrl, string outcome);

    [LoggerMessage(Level = LogLevel.Information, Message = "ACME order {OrderUrl} for {Domains} is {Status}")]
    private static partial void LogOrder(ILogger logger, Uri orderUrl, string domains, string status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Answering the {ChallengeType} challenge for {Domain}")]
    private static partial void LogChallenge(ILogger logger, string challengeType, string domain);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The CA rejected the nonce for {Url} (attempt {Attempt}); retrying with a fresh one")]
    private static partial void LogBadNonce(ILogger logger, Uri url, int attempt);

    private sealed record AcmeResponse(HttpStatusCode Status, byte[] Body, Uri? Location, TimeSpan? RetryAfter)
    {
        public T Read<T>(JsonTypeInfo<T> type) =>
            JsonSerializer.Deserialize(Body, type) ?? throw new InvalidOperationException($"The CA answered with an empty {typeof(T).Name}.");
    }
}
