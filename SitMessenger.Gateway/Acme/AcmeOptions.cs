using Microsoft.Extensions.Options;

namespace SitMessenger.Gateway.Acme;

/// <summary>Where the Gateway keeps ACME state: one machine's folder, or Redis shared by all replicas.</summary>
internal enum AcmeStoreKind
{
    FileSystem,
    Redis,
}

/// <summary>Certificates from an RFC 8555 CA (Let's Encrypt). Configuration section "Acme".</summary>
internal sealed class AcmeOptions
{
    public const string SectionName = "Acme";

    /// <summary>Let's Encrypt production. Its rate limits are strict: try new set-ups against staging first.</summary>
    public const string LetsEncryptProduction = "https://acme-v02.api.letsencrypt.org/directory";

    /// <summary>Let's Encrypt staging: same protocol, untrusted certificates, generous rate limits.</summary>
    public const string LetsEncryptStaging = "https://acme-staging-v02.api.letsencrypt.org/directory";

    public Uri DirectoryUrl { get; set; } = new(LetsEncryptProduction);

    /// <summary>Host names for one certificate. Empty: ACME is off and HTTPS uses a self-signed localhost certificate.</summary>
    public string[] Domains { get; set; } = [];

    /// <summary>Contact for the CA (expiry and incident notices); optional.</summary>
    public string? Email { get; set; }

    /// <summary>The CA's terms must be accepted explicitly by the operator: nothing is ordered without it.</summary>
    public bool AcceptTermsOfService { get; set; }

    /// <summary>
    /// "http-01" (default: the CA fetches http://{domain}/.well-known/acme-challenge/..., port 80) or "tls-alpn-01" (the
    /// CA connects to port 443 offering ALPN "acme-tls/1"; needs Tls:HttpsPort, suits hosts without port 80).
    /// </summary>
    public string ChallengeType { get; set; } = AcmeChallengeTypes.Http01;

    public int RenewBeforeDays { get; set; } = 30;

    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromHours(12);

    /// <summary>First wait after a failed order; it doubles on each further failure up to <see cref="RetryMaxDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMinutes(1);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromHours(6);

    /// <summary>How often to poll authorizations and orders when the CA sends no Retry-After.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one authorization or order may stay pending before the attempt is given up.</summary>
    public TimeSpan ValidationTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// PEM file with extra CA certificates to trust for the ACME server's own HTTPS (a test CA such as Pebble's).
    /// The system trust store still applies.
    /// </summary>
    public string? AdditionalTrustedRootPath { get; set; }

    /// <summary>Folder for the account key and certificates. Default: "acme" under the content root.</summary>
    public string? StorePath { get; set; }

    public AcmeStoreKind Store { get; set; } = AcmeStoreKind.FileSystem;

    /// <summary>
    /// Encrypts the stored private keys (account key PEM, certificate PFX). Required with the Redis store,
    /// where keys leave this machine; optional for files, which are written owner-only.
    /// </summary>
    public string? StorePassword { get; set; }

    /// <summary>Connection string name for the Redis store (<c>ConnectionStrings__cache</c>).</summary>
    public string RedisConnectionName { get; set; } = "cache";

    public bool Enabled => Domains.Length > 0;
}

internal sealed class AcmeOptionsValidator : IValidateOptions<AcmeOptions>
{
    public ValidateOptionsResult Validate(string? name, AcmeOptions options)
    {
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        if (!options.DirectoryUrl.IsAbsoluteUri || options.DirectoryUrl.Scheme != Uri.UriSchemeHttps)
        {
            failures.Add("Acme:DirectoryUrl must be an absolute https URL.");
        }

        foreach (var domain in options.Domains)
        {
            if (!AcmeDomains.IsValidHostName(domain))
            {
                // Wildcards need DNS-01, which this client does not do.
                failures.Add($"Acme:Domains contains '{domain}', which is not a plain DNS host name (wildcards are not supported).");
            }
        }

        if (!options.AcceptTermsOfService)
        {
            failures.Add("Acme:AcceptTermsOfService must be true to order certificates: read the CA's terms, then set it.");
        }

        if (options.ChallengeType is not (AcmeChallengeTypes.Http01 or AcmeChallengeTypes.TlsAlpn01))
        {
            failures.Add($"Acme:ChallengeType must be {AcmeChallengeTypes.Http01} or {AcmeChallengeTypes.TlsAlpn01}.");
        }

        if (options.RenewBeforeDays <= 0)
        {
            failures.Add("Acme:RenewBeforeDays must be positive.");
        }

        if (options.CheckInterval <= TimeSpan.Zero || options.RetryBaseDelay <= TimeSpan.Zero || options.PollInterval <= TimeSpan.Zero
            || options.ValidationTimeout <= TimeSpan.Zero || options.RetryMaxDelay < options.RetryBaseDelay)
        {
            failures.Add("Acme: CheckInterval, RetryBaseDelay, PollInterval and ValidationTimeout must be positive, RetryMaxDelay at least RetryBaseDelay.");
        }

        if (options.Store == AcmeStoreKind.Redis && string.IsNullOrEmpty(options.StorePassword))
        {
            failures.Add("Acme:StorePassword is required with Acme:Store=Redis: private keys are only stored encrypted there.");
        }

        if (options.Email is { Length: > 0 } email && (email.Contains(':', StringComparison.Ordinal) || !email.Contains('@', StringComparison.Ordinal)))
        {
            failures.Add("Acme:Email must be a plain e-mail address (without mailto:).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
