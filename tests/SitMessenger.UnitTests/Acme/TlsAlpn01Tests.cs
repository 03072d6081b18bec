using System.Buffers;
using System.Formats.Asn1;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using SitMessenger.Gateway.Acme;
using SitMessenger.Gateway.Tls;

namespace SitMessenger.UnitTests.Acme;

public sealed class TlsAlpn01Tests
{
    [Fact]
    public async Task A_client_hello_offering_acme_tls_1_is_recognised()
    {
        var hello = await CaptureClientHelloAsync("sit.example", [new SslApplicationProtocol("acme-tls/1")]);

        Assert.True(ClientHelloAlpn.TryFindAlpn(new ReadOnlySequence<byte>(hello), out var offers));
        Assert.True(offers);
    }

    [Fact]
    public async Task A_browser_like_client_hello_is_not_a_validation()
    {
        var hello = await CaptureClientHelloAsync("sit.example", [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11]);

        Assert.True(ClientHelloAlpn.TryFindAlpn(new ReadOnlySequence<byte>(hello), out var offers));
        Assert.False(offers);
        // Half a record: not enough to judge yet.
        Assert.False(ClientHelloAlpn.TryFindAlpn(new ReadOnlySequence<byte>(hello[..(hello.Length / 2)]), out _));
    }

    [Fact]
    public void Non_tls_bytes_are_judged_at_once_and_not_a_validation()
    {
        Assert.True(ClientHelloAlpn.TryFindAlpn(new ReadOnlySequence<byte>("GET / HTTP/1.1\r\n"u8.ToArray()), out var offers));
        Assert.False(offers);
    }

    [Fact]
    public void The_challenge_certificate_carries_the_key_authorization_digest_in_a_critical_extension()
    {
        const string keyAuthorization = "token.thumbprint";

        using var certificate = TlsAlpn01Responder.CreateCertificate("sit.example", keyAuthorization);

        Assert.Equal(["sit.example"], certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
        var extension = certificate.Extensions[TlsAlpn01Responder.AcmeIdentifierOid];
        Assert.NotNull(extension);
        Assert.True(extension.Critical);
        var digest = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadOctetString();
        Assert.Equal(SHA256.HashData(Encoding.ASCII.GetBytes(keyAuthorization)), digest);
        Assert.True(certificate.HasPrivateKey);
    }

    [Fact]
    public async Task The_responder_serves_only_names_with_a_published_answer()
    {
        var store = new InMemoryHttp01ChallengeStore(TimeProvider.System);
        var solver = new TlsAlpn01ChallengeSolver(store);
        var responder = new TlsAlpn01Responder(store);

        await solver.PublishAsync(AcmeChallengeTypes.TlsAlpn01, "sit.example", "token", "token.thumb", CancellationToken.None);

        var context = await responder.GetContextAsync("SIT.example", CancellationToken.None);
        Assert.NotNull(context);
        Assert.Null(await responder.GetContextAsync("other.example", CancellationToken.None));
        // The HTTP-01 endpoint cannot be asked for it: its key is not a token.
        Assert.False(AcmeChallengeMiddleware.IsToken(TlsAlpn01ChallengeSolver.StoreKey("sit.example")));
        await solver.RemoveAsync(AcmeChallengeTypes.TlsAlpn01, "sit.example", "token", CancellationToken.None);
        Assert.Null(await responder.GetContextAsync("sit.example", CancellationToken.None));
    }

    /// <summary>What an SslStream client sends first: its ClientHello, captured from a stream that answers nothing.</summary>
    private static async Task<byte[]> CaptureClientHelloAsync(string serverName, List<SslApplicationProtocol> protocols)
    {
        var capture = new CaptureStream();
        using var ssl = new SslStream(capture);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await Assert.ThrowsAnyAsync<Exception>(() => ssl.AuthenticateAsClientAsync(
            new SslClientAuthenticationOptions { TargetHost = serverName, ApplicationProtocols = protocols }, timeout.Token));
        return capture.Written.ToArray();
    }

    private sealed class CaptureStream : Stream
    {
        public MemoryStream Written { get; } = new();

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        // The "server" hangs up: the handshake fails after the ClientHello was written.
        public override int Read(byte[] buffer, int offset, int count) => 0;

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Written.Write(buffer, offset, count);
    }
}
