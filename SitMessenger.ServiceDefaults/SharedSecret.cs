using System.Security.Cryptography;
using System.Text;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// A secret two parties share (the operator key, the Gateway's forwarding key), compared with what a request presents.
/// Both sides are hashed first, so the comparison takes the same time whatever the lengths, then compared with
/// FixedTimeEquals, so it takes the same time whatever the bytes.
/// </summary>
public sealed class SharedSecret
{
    private readonly byte[] _hash;

    public SharedSecret(string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        _hash = Hash(secret);
    }

    public bool Matches(string? presented) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(Hash(presented), _hash);

    private static byte[] Hash(string text) => SHA256.HashData(Encoding.UTF8.GetBytes(text));
}
