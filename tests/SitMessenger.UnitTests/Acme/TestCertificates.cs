using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace SitMessenger.UnitTests.Acme;

/// <summary>A small CA (root, intermediate) issuing leaves, to test what the Gateway does with what a CA sends.</summary>
internal sealed class TestCertificates : IDisposable
{
    private readonly ECDsa _rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public TestCertificates()
    {
        var now = DateTimeOffset.UtcNow;
        var rootRequest = new CertificateRequest("CN=Test Root", _rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        Root = rootRequest.CreateSelfSigned(now.AddYears(-1), now.AddYears(10));

        var intermediateRequest = new CertificateRequest("CN=Test Intermediate", _intermediateKey, HashAlgorithmName.SHA256);
        intermediateRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        intermediateRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using var intermediate = intermediateRequest.Create(Root, now.AddYears(-1), now.AddYears(5), [1, 2, 3, 4]);
        Intermediate = intermediate.CopyWithPrivateKey(_intermediateKey);
    }

    public X509Certificate2 Root { get; }

    public X509Certificate2 Intermediate { get; }

    /// <summary>A leaf for <paramref name="names"/> (no private key attached) and its key.</summary>
    public (X509Certificate2 Leaf, ECDsa Key) Issue(string[] names, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + names[0], key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            san.AddDnsName(name);
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var serial = RandomNumberGenerator.GetBytes(8);
        serial[0] &= 0x7f;
        return (request.Create(Intermediate, notBefore, notAfter, serial), key);
    }

    /// <summary>The PEM chain as a CA's certificate URL serves it: leaf, then intermediate.</summary>
    public string PemChain(X509Certificate2 leaf) => leaf.ExportCertificatePem() + "\n" + Intermediate.ExportCertificatePem() + "\n";

    /// <summary>A leaf with its key, as the Gateway serves it.</summary>
    public X509Certificate2 IssueWithKey(params string[] names)
    {
        var (leaf, key) = Issue(names, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(89));
        using (leaf)
        using (key)
        {
            return leaf.CopyWithPrivateKey(key);
        }
    }

    public void Dispose()
    {
        Root.Dispose();
        Intermediate.Dispose();
        _rootKey.Dispose();
        _intermediateKey.Dispose();
    }
}
