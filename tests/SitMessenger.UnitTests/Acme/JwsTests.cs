using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SitMessenger.Gateway.Acme;

namespace SitMessenger.UnitTests.Acme;

public sealed class JwsTests
{
    // RFC 7517 appendix A.1 / A.2: the example P-256 key, public and private parts.
    private const string RfcX = "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4";
    private const string RfcY = "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM";
    private const string RfcD = "870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE";

    // RFC 7638 section 3.1: the RSA example key and its thumbprint.
    private const string RfcRsaN =
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMs"
        + "tn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5"
        + "hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

    private static readonly Uri Url = new("https://ca.example/acme/new-order");

    [Fact]
    public void Thumbprint_of_the_rfc_7638_example_key_matches_the_rfc()
    {
        var thumbprint = JwkThumbprint.Compute(new Dictionary<string, string> { ["kty"] = "RSA", ["n"] = RfcRsaN, ["e"] = "AQAB" });

        Assert.Equal("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", thumbprint);
    }

    [Fact]
    public void Thumbprint_input_is_the_required_members_sorted_without_whitespace()
    {
        // Given in any order, written in code point order: e, kty, n (RFC 7638 section 3.3).
        var json = JwkThumbprint.CanonicalJson(new Dictionary<string, string> { ["n"] = "N", ["kty"] = "RSA", ["e"] = "AQAB" });

        Assert.Equal("""{"e":"AQAB","kty":"RSA","n":"N"}""", Encoding.UTF8.GetString(json));
    }

    [Fact]
    public void Account_key_thumbprint_of_the_rfc_7517_example_ec_key_matches_a_hand_computed_value()
    {
        using var key = AcmeAccountKey.FromKey(ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            D = Base64Url.DecodeFromChars(RfcD),
            Q = new ECPoint { X = Base64Url.DecodeFromChars(RfcX), Y = Base64Url.DecodeFromChars(RfcY) },
        }));

        Assert.Equal(RfcX, key.X);
        Assert.Equal(RfcY, key.Y);
        // SHA-256 of {"crv":"P-256","kty":"EC","x":"MKBC...","y":"4Etl..."}, computed independently (Python hashlib)
        // and matching other ACME/JOSE implementations' tests for this key.
        Assert.Equal("cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s", key.Thumbprint);
    }

    [Fact]
    public void Key_authorization_is_token_dot_thumbprint()
    {
        using var key = AcmeAccountKey.Generate();

        var keyAuthorization = key.KeyAuthorization("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA");

        Assert.Equal("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA." + key.Thumbprint, keyAuthorization);
        Assert.Equal(43, key.Thumbprint.Length);
        Assert.Matches("^[A-Za-z0-9_-]+$", key.Thumbprint);
    }

    [Fact]
    public void New_account_request_carries_the_jwk_and_a_signature_that_verifies()
    {
        using var key = AcmeAccountKey.Generate();
        var payload = """{"termsOfServiceAgreed":true}"""u8.ToArray();

        var jws = Parse(AcmeJws.Sign(key, Url, "nonce-1", keyId: null, payload, postAsGet: false));

        Assert.Equal("ES256", jws.Header.GetProperty("alg").GetString());
        Assert.Equal("nonce-1", jws.Header.GetProperty("nonce").GetString());
        Assert.Equal(Url.AbsoluteUri, jws.Header.GetProperty("url").GetString());
        Assert.False(jws.Header.TryGetProperty("kid", out _));
        var jwk = jws.Header.GetProperty("jwk");
        Assert.Equal(["crv", "kty", "x", "y"], jwk.EnumerateObject().Select(p => p.Name));
        Assert.Equal("P-256", jwk.GetProperty("crv").GetString());
        Assert.Equal("EC", jwk.GetProperty("kty").GetString());
        Assert.Equal(payload, Base64Url.DecodeFromChars(jws.Payload));

        // The signature is r||s (64 bytes) over ASCII(protected "." payload), checked with only the public JWK.
        var signature = Base64Url.DecodeFromChars(jws.Signature);
        Assert.Equal(64, signature.Length);
        using var publicKey = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint
            {
                X = Base64Url.DecodeFromChars(jwk.GetProperty("x").GetString()!),
                Y = Base64Url.DecodeFromChars(jwk.GetProperty("y").GetString()!),
            },
        });
        Assert.True(publicKey.VerifyData(
            Encoding.ASCII.GetBytes(jws.Protected + "." + jws.Payload), signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    [Fact]
    public void Later_requests_carry_the_account_url_as_kid_instead_of_the_jwk()
    {
        using var key = AcmeAccountKey.Generate();

        var jws = Parse(AcmeJws.Sign(key, Url, "nonce-2", "https://ca.example/acct/7", "{}"u8, postAsGet: false));

        Assert.Equal("https://ca.example/acct/7", jws.Header.GetProperty("kid").GetString());
        Assert.False(jws.Header.TryGetProperty("jwk", out _));
        Assert.True(key.Verify(Encoding.ASCII.GetBytes(jws.Protected + "." + jws.Payload), Base64Url.DecodeFromChars(jws.Signature)));
    }

    [Fact]
    public void Post_as_get_has_an_empty_payload_and_all_parts_are_unpadded_base64url()
    {
        using var key = AcmeAccountKey.Generate();

        var jws = Parse(AcmeJws.Sign(key, Url, "n", "https://ca.example/acct/7", [], postAsGet: true));

        Assert.Equal(string.Empty, jws.Payload);
        Assert.All([jws.Protected, jws.Signature], part => Assert.Matches("^[A-Za-z0-9_-]+$", part));
    }

    [Fact]
    public void Account_key_round_trips_through_encrypted_pem_and_refuses_a_wrong_password()
    {
        using var key = AcmeAccountKey.Generate();

        var pem = key.ExportPem("secret");
        using var loaded = AcmeAccountKey.FromPem(pem, "secret");

        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", pem, StringComparison.Ordinal);
        Assert.Equal(key.Thumbprint, loaded.Thumbprint);
        Assert.ThrowsAny<CryptographicException>(() => AcmeAccountKey.FromPem(pem, "wrong"));
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", key.ExportPem(null), StringComparison.Ordinal);
    }

    [Fact]
    public void Account_key_other_than_p256_is_refused()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);

        Assert.Throws<ArgumentException>(() => AcmeAccountKey.FromKey(p384));
    }

    private static (JsonElement Header, string Protected, string Payload, string Signature) Parse(byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        Assert.Equal(["protected", "payload", "signature"], root.EnumerateObject().Select(p => p.Name));
        var protectedHeader = root.GetProperty("protected").GetString()!;
        var header = JsonDocument.Parse(Base64Url.DecodeFromChars(protectedHeader)).RootElement.Clone();
        return (header, protectedHeader, root.GetProperty("payload").GetString()!, root.GetProperty("signature").GetString()!);
    }
}
