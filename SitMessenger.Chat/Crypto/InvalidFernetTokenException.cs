using System.Security.Cryptography;

namespace SitMessenger.Chat.Crypto;

/// <summary>
/// Every way a Fernet token can fail to verify. One type so callers cannot branch on (and leak) which check failed;
/// the message says which, for logs, and never carries key or plaintext bytes.
/// </summary>
public sealed class InvalidFernetTokenException : CryptographicException
{
    public InvalidFernetTokenException()
        : base("Invalid Fernet token.")
    {
    }

    public InvalidFernetTokenException(string message)
        : base(message)
    {
    }

    public InvalidFernetTokenException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
