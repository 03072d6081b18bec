using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SitMessenger.Gateway.Acme;
using SitMessenger.Gateway.Tls;

namespace SitMessenger.UnitTests.Acme;

public sealed class CertificateRenewalServiceTests : IDisposable
{
    private static readonly Uri Directory = new("https://ca.test/dir");
    private readonly TestCertificates _ca = new();
    private readonly MemoryStore _store = new();
    private readonly CertificateSelector _selector = new();
    private readonly FakeIssuer _issuer;
    private readonly AcmeOptions _options = new()
    {
        DirectoryUrl = Directory,
        Domains = ["sit.example"],
        AcceptTermsOfService = true,
        RenewBeforeDays = 30,
        StorePassword = "pw",
        RetryBaseDelay = TimeSpan.FromMinutes(1),
        RetryMaxDelay = TimeSpan.FromHours(6),
    };

    public CertificateRenewalServiceTests()
    {
        _issuer = new FakeIssuer(this);
    }

    private string Key => AcmeDomains.CertificateKey(Directory, ["sit.example"]);

    public void Dispose() => _ca.Dispose();

    [Fact]
    public async Task A_stored_certificate_outside_the_renewal_window_is_served_without_ordering()
    {
        using var stored = Certificate(daysLeft: 60);
        await _store.SaveCertificateAsync(Key, new StoredCertificate(stored.Pfx, stored.NotAfter), CancellationToken.None);

        await Service().CheckAsync(CancellationToken.None);

        Assert.Equal(0, _issuer.Orders);
        Assert.Equal(stored.Certificate.Thumbprint, _selector.Select("sit.example")?.Thumbprint);
    }

    [Fact]
    public async Task Without_a_stored_certificate_one_is_ordered_stored_and_served()
    {
        await Service().CheckAsync(CancellationToken.None);

        Assert.Equal(1, _issuer.Orders);
        var stored = await _store.LoadCertificateAsync(Key, CancellationToken.None);
        Assert.NotNull(stored);
        Assert.Equal(_issuer.Last!.Certificate.Thumbprint, _selector.Select("sit.example")?.Thumbprint);
        Assert.False(_store.LockHeld);
    }

    [Fact]
    public async Task A_certificate_within_the_renewal_window_is_replaced()
    {
        using var stored = Certificate(daysLeft: 10);
        await _store.SaveCertificateAsync(Key, new StoredCertificate(stored.Pfx, stored.NotAfter), CancellationToken.None);
        var service = Service();

        await service.CheckAsync(CancellationToken.None);

        Assert.Equal(1, _issuer.Orders);
        Assert.Equal(_issuer.Last!.Certificate.Thumbprint, _selector.Select("sit.example")?.Thumbprint);
        Assert.Equal(_issuer.Last.NotAfter, (await _store.LoadCertificateAsync(Key, CancellationToken.None))!.NotAfter);
    }

    [Fact]
    public void Renewal_is_also_due_after_two_thirds_of_a_short_lifetime()
    {
        // A six-day certificate with two days left: RenewBeforeDays (30) alone would have renewed it from the start,
        // so use a small RenewBeforeDays to see the lifetime rule.
        _options.RenewBeforeDays = 1;
        using var shortLived = Certificate(daysLeft: 1.9, lifetimeDays: 6);
        using var fresh = Certificate(daysLeft: 5, lifetimeDays: 6);
        var service = Service();

        Assert.True(service.NeedsRenewal(shortLived));
        Assert.False(service.NeedsRenewal(fresh));
    }

    [Fact]
    public async Task When_the_order_fails_the_old_certificate_keeps_serving()
    {
        using var stored = Certificate(daysLeft: 10);
        await _store.SaveCertificateAsync(Key, new StoredCertificate(stored.Pfx, stored.NotAfter), CancellationToken.None);
        _issuer.Failure = new AcmeProblemException(new AcmeProblem("urn:ietf:params:acme:error:rateLimited", "too many certificates", 429));

        var error = await Assert.ThrowsAsync<AcmeProblemException>(() => Service().CheckAsync(CancellationToken.None));

        Assert.Contains("rateLimited", error.Message, StringComparison.Ordinal);
        Assert.Equal(stored.Certificate.Thumbprint, _selector.Select("sit.example")?.Thumbprint);
        Assert.False(_store.LockHeld);
    }

    [Fact]
    public async Task While_another_replica_orders_this_one_waits_and_then_serves_its_certificate()
    {
        await using (var otherReplica = await _store.TryAcquireOrderLockAsync(Key, TimeSpan.FromMinutes(1), CancellationToken.None))
        {
            Assert.NotNull(otherReplica);
            var check = Service().CheckAsync(CancellationToken.None);
            await Task.Delay(300);
            Assert.False(check.IsCompleted);

            using var theirs = Certificate(daysLeft: 89);
            await _store.SaveCertificateAsync(Key, new StoredCertificate(theirs.Pfx, theirs.NotAfter), CancellationToken.None);
            await check.WaitAsync(TimeSpan.FromSeconds(10));

            Assert.Equal(0, _issuer.Orders);
            Assert.Equal(theirs.Certificate.Thumbprint, _selector.Select("sit.example")?.Thumbprint);
        }
    }

    [Fact]
    public void Retries_back_off_exponentially_up_to_the_cap()
    {
        var service = Service();

        Assert.Equal(TimeSpan.FromMinutes(1), service.Backoff(1));
        Assert.Equal(TimeSpan.FromMinutes(2), service.Backoff(2));
        Assert.Equal(TimeSpan.FromMinutes(16), service.Backoff(5));
        Assert.Equal(TimeSpan.FromHours(6), service.Backoff(10));
        Assert.Equal(TimeSpan.FromHours(6), service.Backoff(1000));
    }

    private CertificateRenewalService Service() =>
        new(Options.Create(_options), _store, _issuer, _selector, TimeProvider.System, new Lifetime(), NullLogger<CertificateRenewalService>.Instance);

    private IssuedCertificate Certificate(double daysLeft, double lifetimeDays = 90)
    {
        var notAfter = DateTimeOffset.UtcNow.AddDays(daysLeft);
        var (leaf, key) = _ca.Issue(["sit.example"], notAfter.AddDays(-lifetimeDays), notAfter);
        using (leaf)
        using (key)
        {
            return IssuedCertificate.FromPem(_ca.PemChain(leaf), key, "pw");
        }
    }

    private sealed class FakeIssuer(CertificateRenewalServiceTests test) : IAcmeCertificateIssuer
    {
        public int Orders { get; private set; }

        public IssuedCertificate? Last { get; private set; }

        public Exception? Failure { get; set; }

        public Task<IssuedCertificate> IssueAsync(IReadOnlyList<string> domains, CancellationToken cancellationToken)
        {
            Assert.True(test._store.LockHeld, "orders only under the order lock");
            if (Failure is not null)
            {
                throw Failure;
            }

            Orders++;
            Last = test.Certificate(daysLeft: 90);
            return Task.FromResult(Last);
        }
    }

    private sealed class MemoryStore : IAcmeStore
    {
        private readonly Dictionary<string, StoredCertificate> _certificates = [];
        private string? _accountKey;
        private int _locked;

        public bool LockHeld => Volatile.Read(ref _locked) == 1;

        public Task<string?> LoadAccountKeyAsync(CancellationToken cancellationToken) => Task.FromResult(_accountKey);

        public Task SaveAccountKeyAsync(string pem, CancellationToken cancellationToken)
        {
            _accountKey = pem;
            return Task.CompletedTask;
        }

        public Task<StoredCertificate?> LoadCertificateAsync(string certificateKey, CancellationToken cancellationToken)
        {
            lock (_certificates)
            {
                return Task.FromResult(_certificates.GetValueOrDefault(certificateKey));
            }
        }

        public Task SaveCertificateAsync(string certificateKey, StoredCertificate certificate, CancellationToken cancellationToken)
        {
            lock (_certificates)
            {
                _certificates[certificateKey] = certificate;
            }

            return Task.CompletedTask;
        }

        public Task<IAsyncDisposable?> TryAcquireOrderLockAsync(string certificateKey, TimeSpan expiry, CancellationToken cancellationToken) =>
            Task.FromResult<IAsyncDisposable?>(Interlocked.CompareExchange(ref _locked, 1, 0) == 0 ? new Release(this) : null);

        private sealed class Release(MemoryStore store) : IAsyncDisposable
        {
            public ValueTask DisposeAsync()
            {
                Volatile.Write(ref store._locked, 0);
                return ValueTask.CompletedTask;
            }
        }
    }

    private sealed class Lifetime : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => new(canceled: true);

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication()
        {
        }
    }
}
