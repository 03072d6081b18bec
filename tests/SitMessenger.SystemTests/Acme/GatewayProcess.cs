using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace SitMessenger.SystemTests.Acme;

/// <summary>What an HTTPS request to the Gateway saw: the answer and the certificate it was served with.</summary>
internal sealed record HttpsProbe(HttpStatusCode Status, string Serial, IReadOnlyList<string> DnsNames, string? StrictTransportSecurity);

/// <summary>
/// A SitMessenger.Gateway process, as built with the solution, with ACME and TLS configured by environment the way
/// the AppHost or a deployment would; the Api behind it is not needed for TLS.
/// </summary>
internal sealed class GatewayProcess : IAsyncDisposable
{
    public const string Domain = "sit-test.example";

    private GatewayProcess(BackgroundProcess process, int httpPort, int httpsPort)
    {
        Process = process;
        HttpPort = httpPort;
        HttpsPort = httpsPort;
    }

    public BackgroundProcess Process { get; }

    public int HttpPort { get; }

    public int HttpsPort { get; }

    private static string ProjectDirectory => Path.GetDirectoryName(new Projects.SitMessenger_Gateway().ProjectPath)!;

    // The AppHost builds its services in the configuration it is built in, which is this assembly's.
    private static string BuildConfiguration =>
        typeof(GatewayProcess).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyConfigurationAttribute), false)
            .OfType<System.Reflection.AssemblyConfigurationAttribute>().FirstOrDefault()?.Configuration ?? "Debug";

    public static GatewayProcess Start(PebbleServer pebble, string storePath, int httpPort, int httpsPort, IReadOnlyDictionary<string, string?>? extra = null)
    {
        var dll = Environment.GetEnvironmentVariable("SITMESSENGER_GATEWAY_DLL") is { Length: > 0 } overridden
            ? overridden
            : Path.Combine(ProjectDirectory, "bin", BuildConfiguration, "net10.0", "SitMessenger.Gateway.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException("The Gateway is not built (building the system tests builds it through the AppHost).", dll);
        }

        var environment = new Dictionary<string, string?>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{httpPort}",
            ["Tls__HttpsPort"] = httpsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Acme__DirectoryUrl"] = pebble.DirectoryUrl.AbsoluteUri,
            ["Acme__Domains__0"] = Domain,
            ["Acme__Email"] = "ops@sit-test.example",
            ["Acme__AcceptTermsOfService"] = "true",
            ["Acme__AdditionalTrustedRootPath"] = pebble.TlsCertificatePath,
            ["Acme__StorePath"] = storePath,
            ["Acme__PollInterval"] = "00:00:00.200",
            ["Acme__RetryBaseDelay"] = "00:00:01",
            ["services__api__http__0"] = $"http://127.0.0.1:{BackgroundProcess.FreePort()}",
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_ENVIRONMENT"] = null,
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = null,
            ["Logging__Console__FormatterName"] = "simple",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            environment[key] = value;
        }

        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath ? hostPath : "dotnet";
        var process = BackgroundProcess.Start($"gateway :{httpPort}", host, [dll], environment, ProjectDirectory);
        return new GatewayProcess(process, httpPort, httpsPort);
    }

    /// <summary>
    /// GET over HTTPS to https://sit-test.example:{port}{path}, dialled to 127.0.0.1 (no DNS), with SNI and Host the
    /// domain, validated against <paramref name="root"/> only: passes only if the Gateway serves the issued leaf
    /// with its intermediate, for the right name.
    /// </summary>
    public async Task<HttpsProbe> GetHttpsAsync(X509Certificate2 root, string path = "/alive")
    {
        X509Certificate2? served = null;
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(IPAddress.Loopback, context.DnsEndPoint.Port, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            SslOptions =
            {
                CertificateChainPolicy = new X509ChainPolicy
                {
                    TrustMode = X509ChainTrustMode.CustomRootTrust,
                    CustomTrustStore = { root },
                    RevocationMode = X509RevocationMode.NoCheck,
                },
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                {
                    served = certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
                    return errors == SslPolicyErrors.None;
                },
            },
        };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await client.GetAsync(new Uri($"https://{Domain}:{HttpsPort}{path}"));
        using var certificate = served ?? throw new InvalidOperationException("No server certificate was seen.");
        var names = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(e => e.EnumerateDnsNames()).ToList();
        var hsts = response.Headers.TryGetValues("Strict-Transport-Security", out var values) ? values.FirstOrDefault() : null;
        return new HttpsProbe(response.StatusCode, certificate.SerialNumber, names, hsts);
    }

    /// <summary>Polls until an HTTPS request validates against <paramref name="root"/> and matches <paramref name="accept"/>.</summary>
    public async Task<HttpsProbe> WaitForHttpsAsync(X509Certificate2 root, TimeSpan timeout, Func<HttpsProbe, bool>? accept = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            if (Process.HasExited)
            {
                throw new InvalidOperationException($"The Gateway exited. Output:{Environment.NewLine}{Process.Tail()}");
            }

            try
            {
                var probe = await GetHttpsAsync(root);
                if (accept is null || accept(probe))
                {
                    return probe;
                }

                last = new InvalidOperationException($"served serial {probe.Serial}, not yet the one waited for");
            }
            catch (HttpRequestException ex)
            {
                last = ex;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"No acceptable HTTPS answer within {timeout.TotalSeconds:0} s (last: {last?.Message}). Gateway output:{Environment.NewLine}{Process.Tail()}");
    }

    /// <summary>Plain HTTP to the Gateway's HTTP port, without following redirects.</summary>
    public async Task<HttpResponseMessage> GetHttpAsync(string path)
    {
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(10) };
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://127.0.0.1:{HttpPort}{path}"));
        request.Headers.Host = $"{Domain}:{HttpPort}";
        return await client.SendAsync(request);
    }

    public async Task WaitForHttpAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var response = await GetHttpAsync("/alive");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline && !Process.HasExited)
            {
            }

            if (DateTime.UtcNow >= deadline || Process.HasExited)
            {
                throw new TimeoutException($"The Gateway did not answer on HTTP. Output:{Environment.NewLine}{Process.Tail()}");
            }

            await Task.Delay(100);
        }
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
