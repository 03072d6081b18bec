using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using SitMessenger.Gateway.Tls;

namespace SitMessenger.Gateway.Acme;

/// <summary>
/// Keeps a valid certificate for Acme:Domains in the <see cref="CertificateSelector"/>. At start it serves the stored
/// certificate if there is one (a restart never orders again while it is good); it orders when there is none or it is
/// within the renewal window, then checks every CheckInterval. A new certificate is swapped in without a restart; on
/// failure the old one keeps serving and the order is retried with exponential backoff.
/// </summary>
internal sealed partial class CertificateRenewalService(
    IOptions<AcmeOptions> options,
    IAcmeStore store,
    IAcmeCertificateIssuer issuer,
    CertificateSelector selector,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<CertificateRenewalService> logger) : BackgroundService
{
    /// <summary>How long an order may hold the lock; longer than any order (validation timeout included) should take.</summary>
    internal static readonly TimeSpan OrderLockExpiry = TimeSpan.FromMinutes(10);

    private static readonly TimeSpan LockPollInterval = TimeSpan.FromSeconds(1);

    private readonly AcmeOptions _options = options.Value;
    private readonly IReadOnlyList<string> _domains = AcmeDomains.Normalize(options.Value.Domains);
    private readonly string _certificateKey = AcmeDomains.CertificateKey(options.Value.DirectoryUrl, options.Value.Domains);
    private IssuedCertificate? _current;

    /// <summary>The certificate being served; null until one was loaded or ordered.</summary>
    public IssuedCertificate? Current => _current;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_domains.Count == 0)
        {
            return;
        }

        try
        {
            // The stored certificate right away, so the first handshakes already have it.
            await InstallNewerStoredAsync(stoppingToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogCheckFailed(logger, ex, string.Join(", ", _domains), 0, TimeSpan.Zero);
        }

        // Orders only once the server listens: the CA's validation request must find the challenge answer.
        if (!await WaitForStartedAsync(stoppingToken))
        {
            return;
        }

        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                await CheckAsync(stoppingToken);
                failures = 0;
                wait = _options.CheckInterval;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Anything can fail here (CA, network, store); the service must outlive it and try again later.
                failures++;
                wait = Backoff(failures);
                if (ex is AcmeProblemException problem)
                {
                    // The whole problem document (type, detail, subproblems) and where in the order it came.
                    LogAcmeProblem(logger, string.Join(", ", _domains), problem.Problem.Type, problem.Message, failures, wait);
                }
                else
                {
                    LogCheckFailed(logger, ex, string.Join(", ", _domains), failures, wait);
                }
            }

            try
            {
                await Task.Delay(wait, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task<bool> WaitForStartedAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStarted = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        using var onStopping = stoppingToken.Register(() => started.TrySetCanceled(stoppingToken));
        try
        {
            await started.Task;
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>RetryBaseDelay doubled per consecutive failure, capped at RetryMaxDelay.</summary>
    internal TimeSpan Backoff(int failures)
    {
        var factor = Math.Pow(2, Math.Min(failures - 1, 30));
        var delay = _options.RetryBaseDelay * factor;
        return delay > _options.RetryMaxDelay ? _options.RetryMaxDelay : delay;
    }

    /// <summary>
    /// Renewal is due RenewBeforeDays before expiry, or once two thirds of the lifetime have passed: CAs move to
    /// shorter-lived certificates, and a fixed number of days would then miss the window altogether.
    /// </summary>
    internal bool NeedsRenewal(IssuedCertificate certificate)
    {
        var now = time.GetUtcNow();
        var remaining = certificate.NotAfter - now;
        var lifetime = certificate.NotAfter - certificate.NotBefore;
        return remaining <= TimeSpan.FromDays(_options.RenewBeforeDays) || remaining <= lifetime / 3;
    }

    internal async Task CheckAsync(CancellationToken cancellationToken)
    {
        var waitedForOtherReplica = false;
        var waitDeadline = time.GetUtcNow() + OrderLockExpiry;
        while (true)
        {
            var installed = await InstallNewerStoredAsync(cancellationToken);
            if (_current is not null && (!NeedsRenewal(_current) || (waitedForOtherReplica && installed)))
            {
                // Good for now; or another replica just renewed, and its certificate is the one to serve.
                return;
            }

            var lease = await store.TryAcquireOrderLockAsync(_certificateKey, OrderLockExpiry, cancellationToken);
            if (lease is null)
            {
                if (!waitedForOtherReplica)
                {
                    LogWaitingForOtherOrder(logger, string.Join(", ", _domains));
                }

                waitedForOtherReplica = true;
                if (time.GetUtcNow() > waitDeadline)
                {
                    throw new TimeoutException($"Another instance held the order lock for {string.Join(", ", _domains)} longer than {OrderLockExpiry}.");
                }

                await Task.Delay(LockPollInterval, time, cancellationToken);
                continue;
            }

            await using (lease)
            {
                // Under the lock, look again: another replica may have stored a certificate since the first look.
                if (await InstallNewerStoredAsync(cancellationToken) && !NeedsRenewal(_current!))
                {
                    return;
                }

                LogOrdering(logger, string.Join(", ", _domains), _current is null ? "no certificate yet" : "renewal due", _options.DirectoryUrl);
                var issued = await issuer.IssueAsync(_domains, cancellationToken);
                // Stored before served: whatever serves it can be reloaded after a restart.
                await store.SaveCertificateAsync(_certificateKey, new StoredCertificate(issued.Pfx, issued.NotAfter), cancellationToken);
                Install(issued);
                LogOrdered(logger, string.Join(", ", _domains), issued.Certificate.SerialNumber, issued.NotAfter);
                return;
            }
        }
    }

    /// <summary>Serves the stored certificate if it is newer than the current one (or there is none yet).</summary>
    private async Task<bool> InstallNewerStoredAsync(CancellationToken cancellationToken)
    {
        var stored = await store.LoadCertificateAsync(_certificateKey, cancellationToken);
        if (stored is null || (_current is not null && stored.NotAfter <= _current.NotAfter))
        {
            return false;
        }

        IssuedCertificate certificate;
        try
        {
            certificate = IssuedCertificate.FromPfx(stored.Pfx, _options.StorePassword);
        }
        catch (CryptographicException ex)
        {
            // A wrong StorePassword or a damaged file: order a new one rather than serve nothing.
            LogStoredUnreadable(logger, ex, string.Join(", ", _domains));
            return false;
        }

        Install(certificate);
        LogLoadedStored(logger, string.Join(", ", _domains), certificate.Certificate.SerialNumber, certificate.NotAfter);
        return true;
    }

    private void Install(IssuedCertificate certificate)
    {
        // The previous certificate is not disposed: handshakes in flight may still be using it.
        selector.Set(_domains, certificate.Certificate, certificate.Chain);
        _current = certificate;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded the stored certificate for {Domains} (serial {Serial}, valid until {NotAfter:u})")]
    private static partial void LogLoadedStored(ILogger logger, string domains, string serial, DateTimeOffset notAfter);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ordering a certificate for {Domains} ({Reason}) from {DirectoryUrl}")]
    private static partial void LogOrdering(ILogger logger, string domains, string reason, Uri directoryUrl);

    [LoggerMessage(Level = LogLevel.Information, Message = "Obtained a new certificate for {Domains} (serial {Serial}, valid until {NotAfter:u}); serving it now")]
    private static partial void LogOrdered(ILogger logger, string domains, string serial, DateTimeOffset notAfter);

    [LoggerMessage(Level = LogLevel.Information, Message = "Another instance is ordering the certificate for {Domains}; waiting for it")]
    private static partial void LogWaitingForOtherOrder(ILogger logger, string domains);

    [LoggerMessage(Level = LogLevel.Error, Message = "The CA refused the certificate order for {Domains} ({ProblemType}): {Problem}. Attempt {Failures} failed; retrying in {RetryIn}; the current certificate keeps serving")]
    private static partial void LogAcmeProblem(ILogger logger, string domains, string? problemType, string problem, int failures, TimeSpan retryIn);

    [LoggerMessage(Level = LogLevel.Error, Message = "Checking the certificate for {Domains} failed (attempt {Failures}); retrying in {RetryIn}; the current certificate keeps serving")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception, string domains, int failures, TimeSpan retryIn);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The stored certificate for {Domains} cannot be read (wrong Acme:StorePassword?); a new one will be ordered")]
    private static partial void LogStoredUnreadable(ILogger logger, Exception exception, string domains);
}
