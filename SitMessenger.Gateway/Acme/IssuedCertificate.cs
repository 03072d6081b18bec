using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace SitMessenger.Gateway.Acme;

/// <summary>A certificate with its private key, the intermediates to send with it, and the PFX it was loaded from.</summary>
internal sealed class IssuedCertificate : IDisposable
{
    private IssuedCertificate(X509Certificate2 certificate, X509Certificate2Collection chain, byte[] pfx)
    {
        Certificate = certificate;
        Chain = chain;
        Pfx = pfx;
    }

    /// <summary>The leaf, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Intermediates, leaf's issuer first. Kestrel must send them: clients rarely have them.</summary>
    public X509Certificate2Collection Chain { get; }

    /// <summary>Leaf, key and chain as PKCS#12, encrypted with the password given when it was made.</summary>
    public byte[] Pfx { get; }

    public DateTimeOffset NotAfter => new(Certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);

    public DateTimeOffset NotBefore => new(Certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero);

    /// <summary>
    /// From the CA's PEM chain and the key the CSR was made with. The pair goes through PKCS#12 and back so the key is
    /// a persisted one, which SslStream (Kestrel) handles on every platform, and so the stored bytes are the served ones.
    /// </summary>
    public static IssuedCertificate FromPem(string pemChain, ECDsa certificateKey, string? password)
    {
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPem(pemChain);
        if (certificates.Count == 0)
        {
            throw new InvalidOperationException("The CA's certificate download holds no certificate.");
        }

        try
        {
            using var leaf = X509Certificate2.CreateFromPem(pemChain);
            using var withKey = leaf.CopyWithPrivateKey(certificateKey);
            var bundle = new X509Certificate2Collection { withKey };
            for (var i = 1; i < certificates.Count; i++)
            {
                bundle.Add(certificates[i]);
            }

            return FromPfx(bundle.ExportPkcs12(Pkcs12ExportPbeParameters.Pbes2Aes256Sha256, password), password);
        }
        finally
        {
            foreach (var certificate in certificates)
            {
                certificate.Dispose();
            }
        }
    }

    public static IssuedCertificate FromPfx(byte[] pfx, string? password)
    {
        var all = X509CertificateLoader.LoadPkcs12Collection(pfx, password, X509KeyStorageFlags.DefaultKeySet);
        X509Certificate2? leaf = null;
        var chain = new X509Certificate2Collection();
        foreach (var certificate in all)
        {
            if (leaf is null && certificate.HasPrivateKey)
            {
                leaf = certificate;
            }
            else
            {
                chain.Add(certificate);
            }
        }

        if (leaf is null)
        {
            foreach (var certificate in all)
            {
                certificate.Dispose();
            }

            throw new CryptographicException("The PFX holds no certificate with a private key.");
        }

        // PKCS#12 does not promise an order: put the leaf's issuer first, as TLS sends them.
        return new IssuedCertificate(leaf, OrderChain(leaf, chain), pfx);
    }

    public void Dispose()
    {
        Certificate.Dispose();
        foreach (var certificate in Chain)
        {
            certificate.Dispose();
        }
    }

    private static X509Certificate2Collection OrderChain(X509Certificate2 leaf, X509Certificate2Collection rest)
    {
        var ordered = new X509Certificate2Collection();
        var remaining = rest.ToList();
        var current = leaf;
        while (remaining.Count > 0)
        {
            var issuer = remaining.FirstOrDefault(c => c.SubjectName.RawData.AsSpan().SequenceEqual(current.IssuerName.RawData));
            if (issuer is null)
            {
                break;
            }

            ordered.Add(issuer);
            remaining.Remove(issuer);
            current = issuer;
        }

        // Whatever did not fit the chain is kept, not dropped: the client may still find it useful.
        ordered.AddRange(remaining.ToArray());
        return ordered;
    }
}
