using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace SitMessenger.SystemTests.Acme;

/// <summary>
/// Debian's Pebble (a test ACME CA) on loopback, with pebble-challtestsrv as its DNS server answering 127.0.0.1 for
/// every name, so it validates HTTP-01 against the Gateway's test port whatever domain is ordered.
/// </summary>
internal sealed class PebbleServer : IAsyncDisposable
{
    private readonly BackgroundProcess _dns;
    private readonly BackgroundProcess _pebble;

    private PebbleServer(string folder, BackgroundProcess dns, BackgroundProcess pebble, int port, int managementPort, X509Certificate2 tlsCertificate)
    {
        Folder = folder;
        _dns = dns;
        _pebble = pebble;
        DirectoryUrl = new Uri($"https://127.0.0.1:{port}/dir");
        ManagementUrl = new Uri($"https://127.0.0.1:{managementPort}/");
        TlsCertificate = tlsCertificate;
    }

    public string Folder { get; }

    public Uri DirectoryUrl { get; }

    public Uri ManagementUrl { get; }

    /// <summary>Pebble's own HTTPS certificate (self-signed here): what the Gateway must be told to trust.</summary>
    public X509Certificate2 TlsCertificate { get; }

    public string TlsCertificatePath => Path.Combine(Folder, "pebble-cert.pem");

    public BackgroundProcess Process => _pebble;

    /// <param name="httpPort">Where Pebble sends HTTP-01 validations: the Gateway's HTTP port.</param>
    /// <param name="tlsPort">Where Pebble sends TLS-ALPN-01 validations: the Gateway's HTTPS port.</param>
    /// <param name="nonceRejectPercent">Share of valid nonces Pebble rejects as bad, to exercise the client's retry.</param>
    public static async Task<PebbleServer> StartAsync(int httpPort, int tlsPort, int nonceRejectPercent = 0, long? certificateValiditySeconds = null)
    {
        var folder = Directory.CreateTempSubdirectory("sit-pebble-").FullName;
        var tlsCertificate = WriteTlsCertificate(folder);
        var port = BackgroundProcess.FreePort();
        var managementPort = BackgroundProcess.FreePort();
        var dnsPort = BackgroundProcess.FreePort();
        var dnsManagementPort = BackgroundProcess.FreePort();

        var config = new Dictionary<string, object?>
        {
            ["listenAddress"] = $"127.0.0.1:{port}",
            ["managementListenAddress"] = $"127.0.0.1:{managementPort}",
            ["certificate"] = Path.Combine(folder, "pebble-cert.pem"),
            ["privateKey"] = Path.Combine(folder, "pebble-key.pem"),
            ["httpPort"] = httpPort,
            ["tlsPort"] = tlsPort,
            ["ocspResponderURL"] = "",
            ["externalAccountBindingRequired"] = false,
        };
        if (certificateValiditySeconds is { } validity)
        {
            config["certificateValidityPeriod"] = validity;
        }

        var configPath = Path.Combine(folder, "pebble-config.json");
        await File.WriteAllTextAsync(configPath, JsonSerializer.Serialize(new Dictionary<string, object> { ["pebble"] = config }));

        var dns = BackgroundProcess.Start("pebble-challtestsrv", "pebble-challtestsrv",
        [
            "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
            "-dns01", $"127.0.0.1:{dnsPort}", "-management", $"127.0.0.1:{dnsManagementPort}",
            "-http01", "", "-https01", "", "-tlsalpn01", "",
        ]);
        BackgroundProcess? pebble = null;
        try
        {
            pebble = BackgroundProcess.Start("pebble", "pebble", ["-config", configPath, "-dnsserver", $"127.0.0.1:{dnsPort}"],
                new Dictionary<string, string?>
                {
                    ["PEBBLE_VA_NOSLEEP"] = "1",
                    ["PEBBLE_WFE_NONCEREJECT"] = nonceRejectPercent.ToString(System.Globalization.CultureInfo.InvariantCulture),
                });
            var server = new PebbleServer(folder, dns, pebble, port, managementPort, tlsCertificate);
            await server.WaitForDirectoryAsync();
            return server;
        }
        catch
        {
            if (pebble is not null)
            {
                await pebble.DisposeAsync();
            }

            await dns.DisposeAsync();
            throw;
        }
    }

    /// <summary>An HttpClient that trusts Pebble's own HTTPS certificate (for the directory and the management API).</summary>
    public HttpClient CreateClient() => new(new SocketsHttpHandler
    {
        SslOptions =
        {
            CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                CustomTrustStore = { TlsCertificate },
                RevocationMode = X509RevocationMode.NoCheck,
            },
        },
    })
    { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>The root Pebble issues under (new on every start), from its management API.</summary>
    public async Task<X509Certificate2> GetIssuingRootAsync()
    {
        using var client = CreateClient();
        var pem = await client.GetStringAsync(new Uri(ManagementUrl, "roots/0"));
        return X509Certificate2.CreateFromPem(pem);
    }

    public async ValueTask DisposeAsync()
    {
        await _pebble.DisposeAsync();
        await _dns.DisposeAsync();
        TlsCertificate.Dispose();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task WaitForDirectoryAsync()
    {
        using var client = CreateClient();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                using var response = await client.GetAsync(DirectoryUrl);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline && !_pebble.HasExited)
            {
            }

            if (DateTime.UtcNow >= deadline || _pebble.HasExited)
            {
                throw new InvalidOperationException($"Pebble did not serve its directory. Pebble:{Environment.NewLine}{_pebble.Tail()}{Environment.NewLine}challtestsrv:{Environment.NewLine}{_dns.Tail()}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Pebble needs HTTPS of its own: a self-signed certificate for 127.0.0.1 and localhost.</summary>
    private static X509Certificate2 WriteTlsCertificate(string folder)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=pebble test server", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(2));
        File.WriteAllText(Path.Combine(folder, "pebble-cert.pem"), certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(folder, "pebble-key.pem"), key.ExportPkcs8PrivateKeyPem());
        return X509CertificateLoader.LoadCertificate(certificate.RawData);
    }
}
