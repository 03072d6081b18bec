using System.Security.Cryptography;

namespace SitMessenger.Chat.Crypto;

/// <summary>A wrapped data key that cannot be unwrapped. Messages name the master key id, never key bytes.</summary>
public sealed class KeyRingException : CryptographicException
{
    public KeyRingException()
        : base("Key ring operation failed.")
    {
    }

    public KeyRingException(string message)
        : base(message)
    {
    }

    public KeyRingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
