using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace SitMessenger.Gateway.Tls;

/// <summary>
/// A self-signed certificate for localhost, 127.0.0.1 and ::1, for runs without ACME domains. Kept in the store
/// folder (<c>localhost.pfx</c>, with <c>localhost.crt</c> to import into a browser or OS trust store) so it is
/// trusted once, not after every restart.
/// </summary>
internal static class LocalCertificate
{
    public const string PfxFileName = "localhost.pfx";
    public const string CertificateFileName = "localhost.crt";

    public static readonly string[] HostNames = ["localhost", "127.0.0.1", "::1"];

    private static readonly TimeSpan Lifetime = TimeSpan.FromDays(365);

    public static X509Certificate2 LoadOrCreate(string folder, TimeProvider time)
    {
        var pfxPath = Path.Combine(folder, PfxFileName);
        var now = time.GetUtcNow();
        if (File.Exists(pfxPath))
        {
            try
            {
                var existing = X509CertificateLoader.LoadPkcs12FromFile(pfxPath, password: null);
                // Renewed a week early so a browser never meets an expired one.
                if (existing.HasPrivateKey && existing.NotAfter.ToUniversalTime() > now.UtcDateTime.AddDays(7))
                {
                    return existing;
                }

                existing.Dispose();
            }
            catch (CryptographicException)
            {
                // Damaged: make a new one below.
            }
        }

        var created = Create(now);
        Directory.CreateDirectory(folder);
        WriteOwnerOnly(pfxPath, created.Export(X509ContentType.Pkcs12));
        File.WriteAllText(Path.Combine(folder, CertificateFileName), created.ExportCertificatePem());
        return created;
    }

    public static X509Certificate2 Create(DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName("localhost");
        subject.AddOrganizationName("SIT Messenger Gateway (local)");
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication")], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now + Lifetime);
        // Through PKCS#12 so the key is a persisted one SslStream uses on every platform.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null);
    }

    private static void WriteOwnerOnly(string path, byte[] content)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(path, options);
        stream.Write(content);
    }
}
