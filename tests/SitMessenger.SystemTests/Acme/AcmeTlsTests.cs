using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using StackExchange.Redis;

namespace SitMessenger.SystemTests.Acme;

/// <summary>
/// The Gateway's ACME client and HTTPS against a real CA: Debian's Pebble on loopback, the Gateway as its own process.
/// Each test has its own Pebble (a fresh CA) and store folder.
/// </summary>
public sealed class AcmeTlsTests
{
    private static readonly TimeSpan IssuanceBudget = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_gateway_obtains_a_certificate_and_serves_it_over_https_with_its_chain()
    {
        await using var scope = new TestScope();
        var (http, https) = (BackgroundProcess.FreePort(), BackgroundProcess.FreePort());
        var pebble = await scope.StartPebbleAsync(http, https);
        var gateway = scope.Add(GatewayProcess.Start(pebble, scope.Folder("store"), http, https));

        var root = await pebble.GetIssuingRootAsync();
        var probe = await gateway.WaitForHttpsAsync(root, IssuanceBudget);

        Assert.Equal(HttpStatusCode.OK, probe.Status);
        Assert.Equal([GatewayProcess.Domain], probe.DnsNames);
        Assert.Equal("max-age=31536000", probe.StrictTransportSecurity);
        Assert.True(gateway.Process.Contains("Obtained a new certificate"), gateway.Process.Tail());

        // Plain HTTP: redirected to HTTPS on the public port, except health probes and ACME challenges.
        using (var redirect = await gateway.GetHttpAsync("/api/v1/ping/?id=1"))
        {
            Assert.Equal(HttpStatusCode.PermanentRedirect, redirect.StatusCode);
            Assert.Equal(new Uri($"https://{GatewayProcess.Domain}:{https}/api/v1/ping/?id=1"), redirect.Headers.Location);
        }

        using (var alive = await gateway.GetHttpAsync("/alive"))
        {
            Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        }

        using (var unknownToken = await gateway.GetHttpAsync("/.well-known/acme-challenge/no-such-token"))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknownToken.StatusCode);
        }

        // The account key and certificate are written for the owner only.
        var store = scope.Folder("store");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(store, "account-key.pem")));
        Assert.All(Directory.GetFiles(Path.Combine(store, "certificates"), "*.pfx"),
            pfx => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(pfx)));
    }

    [Fact]
    public async Task A_certificate_in_its_renewal_window_is_renewed_and_swapped_in_without_a_restart()
    {
        await using var scope = new TestScope();
        var (http, https) = (BackgroundProcess.FreePort(), BackgroundProcess.FreePort());
        var pebble = await scope.StartPebbleAsync(http, https);
        // Every certificate Pebble issues is within a renewal window this wide: each check renews.
        var gateway = scope.Add(GatewayProcess.Start(pebble, scope.Folder("store"), http, https, new Dictionary<string, string?>
        {
            ["Acme__RenewBeforeDays"] = "100000",
            ["Acme__CheckInterval"] = "00:00:02",
        }));

        var root = await pebble.GetIssuingRootAsync();
        var first = await gateway.WaitForHttpsAsync(root, IssuanceBudget);
        var renewed = await gateway.WaitForHttpsAsync(root, IssuanceBudget, probe => probe.Serial != first.Serial);

        Assert.NotEqual(first.Serial, renewed.Serial);
        Assert.False(gateway.Process.HasExited);
        Assert.True(gateway.Process.Count("Obtained a new certificate") >= 2, gateway.Process.Tail());
    }

    [Fact]
    public async Task A_restarted_gateway_serves_the_stored_certificate_without_ordering_again()
    {
        await using var scope = new TestScope();
        var (http, https) = (BackgroundProcess.FreePort(), BackgroundProcess.FreePort());
        var pebble = await scope.StartPebbleAsync(http, https);
        var store = scope.Folder("store");
        var root = await pebble.GetIssuingRootAsync();

        string firstSerial;
        await using (var first = GatewayProcess.Start(pebble, store, http, https))
        {
            firstSerial = (await first.WaitForHttpsAsync(root, IssuanceBudget)).Serial;
            Assert.True(first.Process.Contains("Ordering a certificate"), first.Process.Tail());
        }

        var second = scope.Add(GatewayProcess.Start(pebble, store, http, https));
        var probe = await second.WaitForHttpsAsync(root, IssuanceBudget);

        Assert.Equal(firstSerial, probe.Serial);
        await second.Process.WaitForOutputAsync("Loaded the stored certificate", TimeSpan.FromSeconds(5));
        Assert.False(second.Process.Contains("Ordering a certificate"), second.Process.Tail());
        // Pebble saw the first Gateway's order and no other.
        Assert.Equal(1, CountNewOrders(pebble));
    }

    [Fact]
    public async Task Rejected_nonces_are_retried_and_the_certificate_is_still_obtained()
    {
        await using var scope = new TestScope();
        var (http, https) = (BackgroundProcess.FreePort(), BackgroundProcess.FreePort());
        var pebble = await scope.StartPebbleAsync(http, https, nonceRejectPercent: 50);
        var gateway = scope.Add(GatewayProcess.Start(pebble, scope.Folder("store"), http, https, new Dictionary<string, string?>
        {
            ["Logging__LogLevel__SitMessenger.Gateway.Acme"] = "Debug",
        }));

        var root = await pebble.GetIssuingRootAsync();
        var probe = await gateway.WaitForHttpsAsync(root, IssuanceBudget);

        Assert.Equal(HttpStatusCode.OK, probe.Status);
        Assert.True(gateway.Process.Contains("rejected the nonce"), "half the nonces were rejected, so some requests were retried: " + gateway.Process.Tail());
    }

    [Fact]
    public async Task Two_replicas_sharing_redis_order_one_certificate_between_them()
    {
        await using var scope = new TestScope();
        var redisPort = BackgroundProcess.FreePort();
        var redis = scope.Add(BackgroundProcess.Start("redis-server", "redis-server",
            ["--port", redisPort.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]));
        await redis.WaitForOutputAsync("Ready to accept connections", TimeSpan.FromSeconds(10));

        var (httpA, httpsA) = (BackgroundProcess.FreePort(), BackgroundProcess.FreePort());
        var (httpB, httpsB) = (BackgroundProcess.FreePort(), BackgroundProcess.FreePort());
        // Pebble validates on replica A's port only: if B orders, A must answer B's challenge from Redis.
        var pebble = await scope.StartPebbleAsync(httpA, httpsA);
        var shared = new Dictionary<string, string?>
        {
            ["Acme__Store"] = "Redis",
            ["Acme__StorePassword"] = "correct horse battery staple",
            ["ConnectionStrings__cache"] = $"127.0.0.1:{redisPort}",
        };

        var a = scope.Add(GatewayProcess.Start(pebble, scope.Folder("a"), httpA, httpsA, shared));
        await a.WaitForHttpAsync(TimeSpan.FromSeconds(30));
        var b = scope.Add(GatewayProcess.Start(pebble, scope.Folder("b"), httpB, httpsB, shared));

        var root = await pebble.GetIssuingRootAsync();
        var probeA = await a.WaitForHttpsAsync(root, IssuanceBudget);
        var probeB = await b.WaitForHttpsAsync(root, IssuanceBudget);

        Assert.Equal(probeA.Serial, probeB.Serial);
        var orders = a.Process.Count("Obtained a new certificate") + b.Process.Count("Obtained a new certificate");
        Assert.True(orders == 1, $"one order between the replicas, saw {orders}.{Environment.NewLine}A:{Environment.NewLine}{a.Process.Tail()}{Environment.NewLine}B:{Environment.NewLine}{b.Process.Tail()}");
        Assert.True(a.Process.Contains("Loaded the stored certificate") || b.Process.Contains("Loaded the stored certificate"));
        Assert.Equal(1, CountNewOrders(pebble));

        // The state is in Redis, not in the replicas' folders, and no private key is there in the clear.
        Assert.False(Directory.Exists(Path.Combine(scope.Folder("a"), "certificates")));
        Assert.False(Directory.Exists(Path.Combine(scope.Folder("b"), "certificates")));
        await using var connection = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{redisPort}");
        var database = connection.GetDatabase();
        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", (string?)await database.StringGetAsync("acme:account-key"), StringComparison.Ordinal);
        var certificateKey = Assert.Single(connection.GetServer($"127.0.0.1:{redisPort}").Keys(pattern: "acme:cert:*"));
        var pfx = (byte[])(await database.HashGetAsync(certificateKey, "pfx"))!;
        Assert.ThrowsAny<CryptographicException>(() => X509CertificateLoader.LoadPkcs12Collection(pfx, password: null));
        var stored = X509CertificateLoader.LoadPkcs12Collection(pfx, "correct horse battery staple");
        Assert.Contains(stored, c => c.HasPrivateKey && c.SerialNumber == probeA.Serial);
        Assert.Empty(connection.GetServer($"127.0.0.1:{redisPort}").Keys(pattern: "acme:order-lock:*"));
    }

    [Fact]
    public async Task The_gateway_can_answer_tls_alpn_01_on_its_https_port_instead()
    {
        await using var scope = new TestScope();
        var (http, https) = (BackgroundProcess.FreePort(), BackgroundProcess.FreePort());
        // Pebble's HTTP-01 port points nowhere: only the TLS-ALPN-01 answer on the HTTPS port can validate.
        var pebble = await scope.StartPebbleAsync(BackgroundProcess.FreePort(), https);
        var gateway = scope.Add(GatewayProcess.Start(pebble, scope.Folder("store"), http, https, new Dictionary<string, string?>
        {
            ["Acme__ChallengeType"] = "tls-alpn-01",
        }));

        var root = await pebble.GetIssuingRootAsync();
        var probe = await gateway.WaitForHttpsAsync(root, IssuanceBudget);

        Assert.Equal(HttpStatusCode.OK, probe.Status);
        Assert.True(gateway.Process.Contains("Answering the tls-alpn-01 challenge"), gateway.Process.Tail());
    }

    private static int CountNewOrders(PebbleServer pebble) => pebble.Process.Count("Added order");

    /// <summary>Everything one test starts, stopped and deleted at its end whatever happens.</summary>
    private sealed class TestScope : IAsyncDisposable
    {
        private readonly string _root = Directory.CreateTempSubdirectory("sit-acme-test-").FullName;
        private readonly List<IAsyncDisposable> _owned = [];

        public string Folder(string name) => Directory.CreateDirectory(Path.Combine(_root, name)).FullName;

        public T Add<T>(T item)
            where T : IAsyncDisposable
        {
            _owned.Add(item);
            return item;
        }

        public async Task<PebbleServer> StartPebbleAsync(int httpPort, int tlsPort, int nonceRejectPercent = 0) =>
            Add(await PebbleServer.StartAsync(httpPort, tlsPort, nonceRejectPercent));

        public async ValueTask DisposeAsync()
        {
            // Gateways before Pebble and Redis, newest first, as they were stacked.
            for (var i = _owned.Count - 1; i >= 0; i--)
            {
                await _owned[i].DisposeAsync();
            }

            try
            {
                Directory.Delete(_root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
