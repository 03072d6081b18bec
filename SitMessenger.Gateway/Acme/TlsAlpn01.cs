using System.Buffers;
using System.Collections.Concurrent;
using System.Formats.Asn1;
using System.IO.Pipelines;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Connections;

namespace SitMessenger.Gateway.Acme;

/// <summary>
/// TLS-ALPN-01 (RFC 8737): the answer is published in the shared challenge store under the domain; the HTTPS
/// listener serves it to handshakes that offer the "acme-tls/1" protocol for that name.
/// </summary>
internal sealed class TlsAlpn01ChallengeSolver(IHttp01ChallengeStore store) : IAcmeChallengeSolver
{
    private static readonly TimeSpan AnswerLifetime = TimeSpan.FromMinutes(10);

    public IReadOnlyList<string> SupportedTypes { get; } = [AcmeChallengeTypes.TlsAlpn01];

    /// <summary>
    /// The store's key for a domain's answer. ':' never occurs in an HTTP-01 token (base64url), so the two kinds of
    /// answer share a store without colliding, and the HTTP endpoint cannot be asked for this one.
    /// </summary>
    public static string StoreKey(string domain) => AcmeChallengeTypes.TlsAlpn01 + ":" + AcmeDomains.NormalizeHost(domain);

    public Task PublishAsync(string challengeType, string domain, string token, string keyAuthorization, CancellationToken cancellationToken) =>
        store.SetAsync(StoreKey(domain), keyAuthorization, AnswerLifetime, cancellationToken);

    public Task RemoveAsync(string challengeType, string domain, string token, CancellationToken cancellationToken) =>
        store.RemoveAsync(StoreKey(domain), cancellationToken);
}

/// <summary>Builds the certificate a TLS-ALPN-01 validation must see, from the published answer.</summary>
internal sealed class TlsAlpn01Responder(IHttp01ChallengeStore store)
{
    public static readonly SslApplicationProtocol AcmeTls1 = new("acme-tls/1");

    /// <summary>id-pe-acmeIdentifier (RFC 8737 section 6.1).</summary>
    public const string AcmeIdentifierOid = "1.3.6.1.5.5.7.1.31";

    // The CA may connect several times (from several vantage points) for one answer: make its certificate once.
    private readonly ConcurrentDictionary<string, SslStreamCertificateContext> _contexts = new(StringComparer.Ordinal);

    /// <summary>The challenge certificate for <paramref name="serverName"/>, or null when no answer is published for it.</summary>
    public async ValueTask<SslStreamCertificateContext?> GetContextAsync(string? serverName, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(serverName))
        {
            return null;
        }

        var domain = AcmeDomains.NormalizeHost(serverName);
        var keyAuthorization = await store.GetAsync(TlsAlpn01ChallengeSolver.StoreKey(domain), cancellationToken);
        if (keyAuthorization is null)
        {
            return null;
        }

        if (_contexts.Count > 100)
        {
            _contexts.Clear();
        }

        return _contexts.GetOrAdd(domain + " " + keyAuthorization, _ =>
        {
            var certificate = CreateCertificate(domain, keyAuthorization);
            return SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true);
        });
    }

    /// <summary>
    /// Self-signed, the domain as its only DNS name, and a critical acmeIdentifier extension holding the SHA-256 of the
    /// key authorization as a DER OCTET STRING (RFC 8737 section 3).
    /// </summary>
    public static X509Certificate2 CreateCertificate(string domain, string keyAuthorization)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + domain, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(domain);
        request.CertificateExtensions.Add(names.Build());
        var digest = new AsnWriter(AsnEncodingRules.DER);
        digest.WriteOctetString(SHA256.HashData(Encoding.ASCII.GetBytes(keyAuthorization)));
        request.CertificateExtensions.Add(new X509Extension(new Oid(AcmeIdentifierOid), digest.Encode(), critical: true));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(7));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null);
    }
}

/// <summary>
/// SslStream's handshake callback sees the server name but not the client's ALPN list, and a TLS-ALPN-01 validation
/// differs from a browser only by offering "acme-tls/1". This reads (without consuming) the ClientHello from the raw
/// connection and tells whether it offers that protocol.
/// </summary>
internal static class ClientHelloAlpn
{
    public const string OffersAcmeTlsItem = "sit.offers-acme-tls/1";

    private const int MaxClientHello = 16384 + 5;

    /// <summary>Connection middleware for an HTTPS listener, before UseHttps.</summary>
    public static Func<ConnectionDelegate, ConnectionDelegate> Middleware => next => async connection =>
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        // A client that connects and sends nothing is left to the handshake timeout that follows.
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            if (await OffersAcmeTlsAsync(connection.Transport.Input, timeout.Token))
            {
                connection.Items[OffersAcmeTlsItem] = true;
            }
        }
        catch (OperationCanceledException)
        {
        }

        await next(connection);
    };

    public static async Task<bool> OffersAcmeTlsAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            var parsed = TryFindAlpn(buffer, out var offers);
            if (parsed || result.IsCompleted || result.IsCanceled || buffer.Length >= MaxClientHello)
            {
                // Nothing consumed: the TLS layer reads the same bytes next.
                input.AdvanceTo(buffer.Start);
                return parsed && offers;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>True when the buffer held a whole first record to judge; <paramref name="offersAcmeTls"/> is the verdict.</summary>
    internal static bool TryFindAlpn(ReadOnlySequence<byte> buffer, out bool offersAcmeTls)
    {
        offersAcmeTls = false;
        if (buffer.Length < 5)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[5];
        buffer.Slice(0, 5).CopyTo(header);
        if (header[0] != 0x16)
        {
            // Not a TLS handshake record: let TLS reject it.
            return true;
        }

        var recordLength = (header[3] << 8) | header[4];
        if (buffer.Length < 5 + recordLength)
        {
            return false;
        }

        var record = buffer.Slice(5, recordLength).ToArray();
        offersAcmeTls = ClientHelloOffers(record, TlsAlpn01Responder.AcmeTls1.Protocol.Span);
        return true;
    }

    /// <summary>Walks a ClientHello (RFC 8446 section 4.1.2) to the ALPN extension (type 16).</summary>
    internal static bool ClientHelloOffers(ReadOnlySpan<byte> handshake, ReadOnlySpan<byte> protocol)
    {
        if (handshake.Length < 4 || handshake[0] != 0x01)
        {
            return false;
        }

        var body = handshake[4..];
        var position = 2 + 32; // legacy_version, random
        if (!Skip(body, ref position, 1) || !Skip(body, ref position, 2) || !Skip(body, ref position, 1) || position + 2 > body.Length)
        {
            return false;
        }

        var extensionsEnd = Math.Min(body.Length, position + 2 + ((body[position] << 8) | body[position + 1]));
        position += 2;
        while (position + 4 <= extensionsEnd)
        {
            var type = (body[position] << 8) | body[position + 1];
            var length = (body[position + 2] << 8) | body[position + 3];
            position += 4;
            if (position + length > extensionsEnd)
            {
                return false;
            }

            if (type == 16 && length >= 2)
            {
                var list = body.Slice(position + 2, Math.Min(length - 2, (body[position] << 8) | body[position + 1]));
                while (list.Length > 0)
                {
                    var nameLength = list[0];
                    if (1 + nameLength > list.Length)
                    {
                        return false;
                    }

                    if (list.Slice(1, nameLength).SequenceEqual(protocol))
                    {
                        return true;
                    }

                    list = list[(1 + nameLength)..];
                }

                return false;
            }

            position += length;
        }

        return false;
    }

    /// <summary>Skips a vector whose length prefix is <paramref name="prefixBytes"/> long.</summary>
    private static bool Skip(ReadOnlySpan<byte> body, ref int position, int prefixBytes)
    {
        if (position + prefixBytes > body.Length)
        {
            return false;
        }

        var length = prefixBytes == 1 ? body[position] : (body[position] << 8) | body[position + 1];
        position += prefixBytes + length;
        return position <= body.Length;
    }
}
