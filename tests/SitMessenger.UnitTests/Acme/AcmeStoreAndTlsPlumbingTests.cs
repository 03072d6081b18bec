using Microsoft.AspNetCore.Http;
using SitMessenger.Gateway.Acme;
using SitMessenger.Gateway.Tls;

namespace SitMessenger.UnitTests.Acme;

public sealed class AcmeStoreAndTlsPlumbingTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("sit-acme-store-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public async Task File_store_round_trips_and_writes_keys_owner_only()
    {
        var store = new FileSystemAcmeStore(Path.Combine(_folder.FullName, "acme"));
        var key = AcmeDomains.CertificateKey(new Uri("https://127.0.0.1:14000/dir"), ["b.example", "A.example"]);
        var notAfter = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

        Assert.Null(await store.LoadAccountKeyAsync(CancellationToken.None));
        Assert.Null(await store.LoadCertificateAsync(key, CancellationToken.None));
        await store.SaveAccountKeyAsync("-----BEGIN PRIVATE KEY-----", CancellationToken.None);
        await store.SaveCertificateAsync(key, new StoredCertificate([1, 2, 3], notAfter), CancellationToken.None);

        Assert.Equal("-----BEGIN PRIVATE KEY-----", await store.LoadAccountKeyAsync(CancellationToken.None));
        var loaded = await store.LoadCertificateAsync(key, CancellationToken.None);
        Assert.Equal([1, 2, 3], loaded!.Pfx);
        Assert.Equal(notAfter, loaded.NotAfter);
        Assert.Equal("127.0.0.1_14000/a.example,b.example", key);
        if (!OperatingSystem.IsWindows())
        {
            var pfx = Path.Combine(store.Root, "certificates", FileSystemAcmeStore.FileName(key) + ".pfx");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(pfx));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(store.Root, "account-key.pem")));
        }
    }

    [Fact]
    public async Task File_store_order_lock_is_exclusive_until_released()
    {
        var store = new FileSystemAcmeStore(_folder.FullName);

        var first = await store.TryAcquireOrderLockAsync("ca/sit.example", TimeSpan.FromMinutes(1), CancellationToken.None);
        var second = await store.TryAcquireOrderLockAsync("ca/sit.example", TimeSpan.FromMinutes(1), CancellationToken.None);
        var otherDomain = await store.TryAcquireOrderLockAsync("ca/other.example", TimeSpan.FromMinutes(1), CancellationToken.None);

        Assert.NotNull(first);
        Assert.Null(second);
        Assert.NotNull(otherDomain);
        await first.DisposeAsync();
        await otherDomain.DisposeAsync();
        var third = await store.TryAcquireOrderLockAsync("ca/sit.example", TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.NotNull(third);
        await third.DisposeAsync();
    }

    [Fact]
    public async Task In_memory_challenge_answers_expire_and_can_be_removed()
    {
        var store = new InMemoryHttp01ChallengeStore(TimeProvider.System);

        await store.SetAsync("t1", "t1.thumb", TimeSpan.FromMinutes(1), CancellationToken.None);
        await store.SetAsync("t2", "t2.thumb", TimeSpan.FromMilliseconds(-1), CancellationToken.None);

        Assert.Equal("t1.thumb", await store.GetAsync("t1", CancellationToken.None));
        Assert.Null(await store.GetAsync("t2", CancellationToken.None));
        await store.RemoveAsync("t1", CancellationToken.None);
        Assert.Null(await store.GetAsync("t1", CancellationToken.None));
    }

    [Fact]
    public async Task Challenge_endpoint_answers_known_tokens_as_text_and_404s_the_rest()
    {
        var store = new InMemoryHttp01ChallengeStore(TimeProvider.System);
        await store.SetAsync("abc_DEF-123", "abc_DEF-123.thumb", TimeSpan.FromMinutes(1), CancellationToken.None);
        var passedOn = false;
        var middleware = new AcmeChallengeMiddleware(_ => { passedOn = true; return Task.CompletedTask; }, store);

        var (status, type, body) = await Invoke(middleware, "/.well-known/acme-challenge/abc_DEF-123");
        Assert.Equal(200, status);
        Assert.Equal("text/plain", type);
        Assert.Equal("abc_DEF-123.thumb", body);

        Assert.Equal(404, (await Invoke(middleware, "/.well-known/acme-challenge/unknown")).Status);
        Assert.Equal(404, (await Invoke(middleware, "/.well-known/acme-challenge/../../etc")).Status);
        Assert.Equal(404, (await Invoke(middleware, "/.well-known/acme-challenge/")).Status);
        Assert.False(passedOn);

        await Invoke(middleware, "/api/v1/ping/");
        Assert.True(passedOn);
    }

    [Theory]
    [InlineData("/.well-known/acme-challenge/x", true)]
    [InlineData("/health", true)]
    [InlineData("/alive", true)]
    [InlineData("/api/v1/chat/", false)]
    [InlineData("/healthy", false)]
    [InlineData("/", false)]
    public void Redirect_exempts_challenges_and_health_probes(string path, bool exempt) =>
        Assert.Equal(exempt, HttpsRedirectMiddleware.IsExempt(new PathString(path)));

    [Fact]
    public void Hsts_is_a_year_without_subdomains_by_default_and_never_for_loopback()
    {
        Assert.Equal("max-age=31536000", HstsMiddleware.HeaderValue(new TlsOptions()));
        Assert.Equal("max-age=60; includeSubDomains", HstsMiddleware.HeaderValue(new TlsOptions { HstsMaxAge = TimeSpan.FromMinutes(1), HstsIncludeSubDomains = true }));
        Assert.True(HstsMiddleware.IsLoopbackHost("localhost"));
        Assert.True(HstsMiddleware.IsLoopbackHost("127.0.0.1"));
        Assert.True(HstsMiddleware.IsLoopbackHost("[::1]"));
        Assert.False(HstsMiddleware.IsLoopbackHost("sit.example"));
    }

    [Fact]
    public void Listen_urls_are_read_as_kestrel_reads_them()
    {
        var addresses = GatewayListeners.Parse("http://127.0.0.1:8000; https://*:8443;http://[::1]:81;http://localhost");

        Assert.Equal(
            [new("http", "127.0.0.1", 8000), new("https", "*", 8443), new("http", "::1", 81), new GatewayListeners.Address("http", "localhost", 80)],
            addresses);
        Assert.Equal([new GatewayListeners.Address("http", "*", 8080)], GatewayListeners.Parse(null, "8080"));
    }

    [Theory]
    [InlineData("sit.example", true)]
    [InlineData("xn--bcher-kva.example", true)]
    [InlineData("*.sit.example", false)]
    [InlineData("-bad.example", false)]
    [InlineData("under_score.example", false)]
    [InlineData("", false)]
    public void Only_plain_dns_names_can_be_ordered(string domain, bool valid) =>
        Assert.Equal(valid, AcmeDomains.IsValidHostName(domain));

    [Fact]
    public void Options_without_accepted_terms_or_with_redis_but_no_password_are_refused()
    {
        var validator = new AcmeOptionsValidator();

        Assert.True(validator.Validate(null, new AcmeOptions()).Succeeded);
        var noTerms = validator.Validate(null, new AcmeOptions { Domains = ["sit.example"] });
        Assert.Contains(noTerms.Failures!, f => f.Contains("AcceptTermsOfService", StringComparison.Ordinal));
        var redis = validator.Validate(null, new AcmeOptions { Domains = ["sit.example"], AcceptTermsOfService = true, Store = AcmeStoreKind.Redis });
        Assert.Contains(redis.Failures!, f => f.Contains("StorePassword", StringComparison.Ordinal));
        Assert.True(validator.Validate(null, new AcmeOptions { Domains = ["sit.example"], AcceptTermsOfService = true, Email = "ops@sit.example" }).Succeeded);
    }

    private static async Task<(int Status, string? ContentType, string Body)> Invoke(AcmeChallengeMiddleware middleware, string path)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = path;
        using var body = new MemoryStream();
        context.Response.Body = body;
        await middleware.InvokeAsync(context);
        return (context.Response.StatusCode, context.Response.ContentType, System.Text.Encoding.UTF8.GetString(body.ToArray()));
    }
}
