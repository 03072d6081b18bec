using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace SitMessenger.Gateway.Acme;

/// <summary>
/// The ACME account key: ECDSA P-256, signing requests as ES256 JWS (RFC 7515, RFC 8555 section 6.2).
/// </summary>
internal sealed class AcmeAccountKey : IDisposable
{
    public const string Algorithm = "ES256";

    private readonly ECDsa _key;

    private AcmeAccountKey(ECDsa key)
    {
        var parameters = key.ExportParameters(includePrivateParameters: false);
        if (parameters.Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
        {
            throw new ArgumentException("The ACME account key must be an ECDSA P-256 key (ES256).", nameof(key));
        }

        _key = key;
        X = Base64Url.EncodeToString(parameters.Q.X);
        Y = Base64Url.EncodeToString(parameters.Q.Y);
        Thumbprint = JwkThumbprint.Compute(
            new Dictionary<string, string>(StringComparer.Ordinal) { ["crv"] = "P-256", ["kty"] = "EC", ["x"] = X, ["y"] = Y });
    }

    /// <summary>The public x coordinate, base64url (32 bytes: .NET pads coordinates to the field size as JWK requires).</summary>
    public string X { get; }

    public string Y { get; }

    /// <summary>RFC 7638 thumbprint of the public JWK, base64url of SHA-256.</summary>
    public string Thumbprint { get; }

    public static AcmeAccountKey Generate() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    /// <summary>Takes ownership of <paramref name="key"/>.</summary>
    public static AcmeAccountKey FromKey(ECDsa key) => new(key);

    /// <summary>PKCS#8 PEM, encrypted when a password is given (<see cref="ExportPem"/>).</summary>
    public static AcmeAccountKey FromPem(string pem, string? password)
    {
        var key = ECDsa.Create();
        try
        {
            if (string.IsNullOrEmpty(password))
            {
                key.ImportFromPem(pem);
            }
            else
            {
                key.ImportFromEncryptedPem(pem, password);
            }

            return new AcmeAccountKey(key);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    public string ExportPem(string? password) => string.IsNullOrEmpty(password)
        ? _key.ExportPkcs8PrivateKeyPem()
        : _key.ExportEncryptedPkcs8PrivateKeyPem(password, KeyEncryption);

    /// <summary>RFC 8555 section 8.1: token "." base64url(JWK thumbprint).</summary>
    public string KeyAuthorization(string token) => token + "." + Thumbprint;

    /// <summary>ES256 signature: raw r||s (IEEE P1363), which is what JWS wants, not DER.</summary>
    public byte[] Sign(ReadOnlySpan<byte> data) => _key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        _key.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    /// <summary>The public JWK with members in lexicographic order, which is also the thumbprint's input.</summary>
    public void WriteJwk(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("crv", "P-256");
        writer.WriteString("kty", "EC");
        writer.WriteString("x", X);
        writer.WriteString("y", Y);
        writer.WriteEndObject();
    }

    public void Dispose() => _key.Dispose();

    // AES-256 and a high iteration count: the PEM may sit in a shared store (Redis).
    private static readonly PbeParameters KeyEncryption = new(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 210_000);
}

/// <summary>RFC 7638 JWK thumbprint over the required members of a key.</summary>
internal static class JwkThumbprint
{
    /// <summary>
    /// SHA-256 over the required members as JSON, sorted by name in ordinal (code point) order, without whitespace.
    /// Members are passed in explicitly so the canonical form does not depend on any key type.
    /// </summary>
    public static string Compute(IReadOnlyDictionary<string, string> requiredMembers) =>
        Base64Url.EncodeToString(SHA256.HashData(CanonicalJson(requiredMembers)));

    public static byte[] CanonicalJson(IReadOnlyDictionary<string, string> requiredMembers)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in requiredMembers.OrderBy(m => m.Key, StringComparer.Ordinal))
            {
                writer.WriteString(name, value);
            }

            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }
}

/// <summary>Builds ACME requests: flattened JWS JSON serialization (RFC 7515 section 7.2.2) as RFC 8555 section 6.2 asks.</summary>
internal static class AcmeJws
{
    /// <summary>
    /// Signs <paramref name="payload"/> for <paramref name="url"/>. With <paramref name="keyId"/> null the header carries the
    /// public key (<c>jwk</c>, only for newAccount); otherwise the account URL (<c>kid</c>).
    /// A null payload is POST-as-GET: the payload is the empty string, not "{}".
    /// </summary>
    public static byte[] Sign(AcmeAccountKey key, Uri url, string nonce, string? keyId, ReadOnlySpan<byte> payload, bool postAsGet)
    {
        using var header = new MemoryStream();
        using (var writer = new Utf8JsonWriter(header))
        {
            writer.WriteStartObject();
            writer.WriteString("alg", AcmeAccountKey.Algorithm);
            if (keyId is null)
            {
                writer.WritePropertyName("jwk");
                key.WriteJwk(writer);
            }
            else
            {
                writer.WriteString("kid", keyId);
            }

            writer.WriteString("nonce", nonce);
            writer.WriteString("url", url.AbsoluteUri);
            writer.WriteEndObject();
        }

        var protectedHeader = Base64Url.EncodeToString(header.ToArray());
        var encodedPayload = postAsGet ? string.Empty : Base64Url.EncodeToString(payload);
        var signature = key.Sign(Encoding.ASCII.GetBytes(protectedHeader + "." + encodedPayload));

        using var body = new MemoryStream();
        using (var writer = new Utf8JsonWriter(body))
        {
            writer.WriteStartObject();
            writer.WriteString("protected", protectedHeader);
            writer.WriteString("payload", encodedPayload);
            writer.WriteString("signature", Base64Url.EncodeToString(signature));
            writer.WriteEndObject();
        }

        return body.ToArray();
    }
}
