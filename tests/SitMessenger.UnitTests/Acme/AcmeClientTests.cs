using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging.Abstractions;
using SitMessenger.Gateway.Acme;

namespace SitMessenger.UnitTests.Acme;

public sealed class AcmeClientTests : IDisposable
{
    private readonly TestCertificates _ca = new();
    private readonly AcmeAccountKey _key = AcmeAccountKey.Generate();

    public void Dispose()
    {
        _ca.Dispose();
        _key.Dispose();
    }

    [Fact]
    public async Task Orders_a_certificate_through_http_01_with_a_fresh_certificate_key()
    {
        using var fake = new FakeCa(_ca);
        var client = Client(fake);
        var solver = new RecordingSolver(fake);

        using var issued = await client.OrderCertificateAsync(["sit.example"], solver, "ops@sit.example", true, "pw", CancellationToken.None);

        Assert.True(issued.Certificate.HasPrivateKey);
        Assert.Equal(["sit.example"], issued.Certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
        Assert.Equal(_ca.Intermediate.Thumbprint, Assert.Single(issued.Chain).Thumbprint);
        // The certificate key is its own, never the account key.
        using var accountPublic = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = System.Buffers.Text.Base64Url.DecodeFromChars(_key.X), Y = System.Buffers.Text.Base64Url.DecodeFromChars(_key.Y) } });
        Assert.NotEqual(accountPublic.ExportSubjectPublicKeyInfo(), issued.Certificate.GetECDsaPublicKey()!.ExportSubjectPublicKeyInfo());
        // The answer was published for the validation and withdrawn afterwards; the PFX is password-protected.
        Assert.Equal(fake.Token, solver.Published);
        Assert.Equal(fake.Token, solver.Removed);
        Assert.ThrowsAny<CryptographicException>(() => IssuedCertificate.FromPfx(issued.Pfx, "wrong"));
        using var reloaded = IssuedCertificate.FromPfx(issued.Pfx, "pw");
        Assert.Equal(issued.Certificate.Thumbprint, reloaded.Certificate.Thumbprint);
        // The first request fetched a nonce; every later one used the nonce of the previous answer.
        Assert.Equal(1, fake.NonceRequests);
    }

    [Fact]
    public void The_csr_names_every_domain_as_a_dns_san()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var csr = CertificateRequest.LoadSigningRequest(
            AcmeClient.CreateCsr(["a.example", "b.example"], key), HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);

        Assert.Equal("CN=a.example", csr.SubjectName.Name);
        Assert.Equal(["a.example", "b.example"], csr.CertificateExtensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
    }

    [Fact]
    public async Task Bad_nonce_answers_are_retried_with_the_nonce_they_carry()
    {
        using var fake = new FakeCa(_ca) { BadNoncesToSend = AcmeClient.MaxBadNonceRetries };
        var client = Client(fake);

        var account = await client.CreateOrGetAccountAsync(null, true, CancellationToken.None);

        Assert.Equal(FakeCa.Base + "/acct/1", account);
        Assert.Equal(AcmeClient.MaxBadNonceRetries, fake.BadNoncesSent);
        Assert.Equal(1, fake.NonceRequests);
    }

    [Fact]
    public async Task A_ca_that_keeps_refusing_nonces_ends_in_a_problem_exception()
    {
        using var fake = new FakeCa(_ca) { BadNoncesToSend = 100 };
        var client = Client(fake);

        var error = await Assert.ThrowsAsync<AcmeProblemException>(() => client.CreateOrGetAccountAsync(null, true, CancellationToken.None));

        Assert.Equal(AcmeProblem.BadNonce, error.Problem.Type);
        Assert.Equal(AcmeClient.MaxBadNonceRetries + 1, fake.BadNoncesSent);
        Assert.Contains("badNonce", error.Message, StringComparison.Ordinal);
    }

    private AcmeClient Client(FakeCa fake) =>
        new(new HttpClient(fake, disposeHandler: false), FakeCa.DirectoryUrl, _key, NullLogger.Instance,
            new AcmeClientSettings(TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(10)));

    private sealed class RecordingSolver(FakeCa fake) : IAcmeChallengeSolver
    {
        public string? Published { get; private set; }

        public string? Removed { get; private set; }

        public IReadOnlyList<string> SupportedTypes { get; } = [AcmeChallengeTypes.Http01];

        public Task PublishAsync(string challengeType, string domain, string token, string keyAuthorization, CancellationToken cancellationToken)
        {
            Assert.Equal(AcmeChallengeTypes.Http01, challengeType);
            Assert.Equal("sit.example", domain);
            Published = token;
            fake.PublishedKeyAuthorization = keyAuthorization;
            return Task.CompletedTask;
        }

        public Task RemoveAsync(string challengeType, string domain, string token, CancellationToken cancellationToken)
        {
            Removed = token;
            return Task.CompletedTask;
        }
    }
}
