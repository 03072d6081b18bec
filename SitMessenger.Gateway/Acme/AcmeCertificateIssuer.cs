using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;

namespace SitMessenger.Gateway.Acme;

/// <summary>Orders one certificate. The caller holds the order lock for the domain set.</summary>
internal interface IAcmeCertificateIssuer
{
    Task<IssuedCertificate> IssueAsync(IReadOnlyList<string> domains, CancellationToken cancellationToken);
}

/// <summary>
/// Runs <see cref="AcmeClient"/> with the account key from the store (created on first use) and an HttpClient of
/// its own: not from the factory, whose default resilience handler would replay signed POSTs (their nonce is spent,
/// so a replay can only fail) and cap the order's long polls.
/// </summary>
internal sealed partial class AcmeCertificateIssuer : IAcmeCertificateIssuer, IDisposable
{
    private readonly AcmeOptions _options;
    private readonly IAcmeStore _store;
    private readonly IAcmeChallengeSolver _solver;
    private readonly ILogger<AcmeCertificateIssuer> _logger;
    private readonly ILogger<AcmeClient> _clientLogger;
    private readonly TimeProvider _time;
    private readonly HttpClient _http;
    private AcmeClient? _client;

    public AcmeCertificateIssuer(
        IOptions<AcmeOptions> options,
        IAcmeStore store,
        IAcmeChallengeSolver solver,
        ILogger<AcmeCertificateIssuer> logger,
        ILogger<AcmeClient> clientLogger,
        TimeProvider time)
    {
        _options = options.Value;
        _store = store;
        _solver = solver;
        _logger = logger;
        _clientLogger = clientLogger;
        _time = time;
        _http = CreateHttpClient(_options.AdditionalTrustedRootPath);
    }

    public async Task<IssuedCertificate> IssueAsync(IReadOnlyList<string> domains, CancellationToken cancellationToken)
    {
        _client ??= new AcmeClient(
            _http,
            _options.DirectoryUrl,
            await LoadOrCreateAccountKeyAsync(cancellationToken),
            _clientLogger,
            new AcmeClientSettings(_options.PollInterval, _options.ValidationTimeout),
            _time);
        return await _client.OrderCertificateAsync(
            domains, _solver, _options.Email, _options.AcceptTermsOfService, _options.StorePassword, cancellationToken);
    }

    public void Dispose()
    {
        _http.Dispose();
        _client?.AccountKey.Dispose();
    }

    /// <summary>
    /// The HttpClient for the CA. With an extra root (a test CA such as Pebble's), a certificate that fails only on
    /// its chain is checked again against that root; host name errors are never forgiven.
    /// </summary>
    internal static HttpClient CreateHttpClient(string? additionalTrustedRootPath)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (!string.IsNullOrEmpty(additionalTrustedRootPath))
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(additionalTrustedRootPath);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
                errors == SslPolicyErrors.None
                || (errors == SslPolicyErrors.RemoteCertificateChainErrors && certificate is not null && ChainsTo(certificate, chain, roots));
        }

        var http = new HttpClient(handler, disposeHandler: true) { Timeout = TimeSpan.FromSeconds(60) };
        // CAs ask clients to identify themselves (RFC 8555 section 6.1).
        http.DefaultRequestHeaders.UserAgent.ParseAdd("SitMessenger.Gateway-ACME/1.0");
        return http;
    }

    private static bool ChainsTo(X509Certificate certificate, X509Chain? presented, X509Certificate2Collection roots)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
        {
            chain.ChainPolicy.ExtraStore.AddRange(presented.ChainPolicy.ExtraStore);
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        if (certificate is X509Certificate2 leaf)
        {
            return chain.Build(leaf);
        }

        using var copy = new X509Certificate2(certificate);
        return chain.Build(copy);
    }

    private async Task<AcmeAccountKey> LoadOrCreateAccountKeyAsync(CancellationToken cancellationToken)
    {
        if (await _store.LoadAccountKeyAsync(cancellationToken) is { } pem)
        {
            return AcmeAccountKey.FromPem(pem, _options.StorePassword);
        }

        var key = AcmeAccountKey.Generate();
        await _store.SaveAccountKeyAsync(key.ExportPem(_options.StorePassword), cancellationToken);
        LogAccountKeyCreated(_logger, key.Thumbprint);
        return key;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Created a new ACME account key (JWK thumbprint {Thumbprint})")]
    private static partial void LogAccountKeyCreated(ILogger logger, string thumbprint);
}
