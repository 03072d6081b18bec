namespace SitMessenger.Gateway.Acme;

/// <summary>A stored certificate: PKCS#12 bytes (encrypted with Acme:StorePassword when set) and when it expires.</summary>
internal sealed record StoredCertificate(byte[] Pfx, DateTimeOffset NotAfter);

/// <summary>
/// Where ACME state lives between restarts and, for the Redis store, between replicas. It stores bytes as given:
/// encryption of private keys happens before they reach a store.
/// </summary>
internal interface IAcmeStore
{
    /// <summary>The account key as PKCS#8 PEM (encrypted PEM when a store password is set), or null before the first order.</summary>
    Task<string?> LoadAccountKeyAsync(CancellationToken cancellationToken);

    Task SaveAccountKeyAsync(string pem, CancellationToken cancellationToken);

    /// <param name="certificateKey">From <see cref="AcmeDomains.CertificateKey"/>: the CA and the domain set.</param>
    Task<StoredCertificate?> LoadCertificateAsync(string certificateKey, CancellationToken cancellationToken);

    Task SaveCertificateAsync(string certificateKey, StoredCertificate certificate, CancellationToken cancellationToken);

    /// <summary>
    /// The right to order this certificate, held by one process at a time (across replicas for a shared store).
    /// Null when another holder has it. The lock lapses after <paramref name="expiry"/> should its holder die.
    /// </summary>
    Task<IAsyncDisposable?> TryAcquireOrderLockAsync(string certificateKey, TimeSpan expiry, CancellationToken cancellationToken);
}
