using System.Security.Cryptography;

namespace SitMessenger.Chat.Crypto;

/// <summary>Configuration shape of the master keys, e.g. <c>ChatKeyRing__ActiveKeyId=k2</c>, <c>ChatKeyRing__Keys__k2=base64</c>.</summary>
public sealed class ChatKeyRingOptions
{
    public const string SectionName = "ChatKeyRing";

    /// <summary>The key that wraps new data keys; the others only unwrap.</summary>
    public string ActiveKeyId { get; set; } = "";

    /// <summary>Key id → standard base64 of 32 random bytes.</summary>
    public Dictionary<string, string> Keys { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Every problem with these options, empty when they are usable. Messages name key ids, never key text.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Keys.Count == 0)
        {
            errors.Add($"{SectionName}:Keys is empty: configure at least one master key.");
        }

        if (string.IsNullOrWhiteSpace(ActiveKeyId))
        {
            errors.Add($"{SectionName}:ActiveKeyId is not set.");
        }
        else if (!Keys.ContainsKey(ActiveKeyId))
        {
            errors.Add($"{SectionName}:ActiveKeyId '{ActiveKeyId}' has no entry in {SectionName}:Keys.");
        }

        foreach (var (id, text) in Keys)
        {
            if (string.IsNullOrWhiteSpace(id))
            {
                errors.Add($"{SectionName}:Keys has an empty key id.");
            }

            switch (DecodedLength(text))
            {
                case null:
                    errors.Add($"Master key '{id}' is not valid base64.");
                    break;
                case var length and not ChatKeyRing.MasterKeySize:
                    errors.Add($"Master key '{id}' is {length} bytes; it must be {ChatKeyRing.MasterKeySize}.");
                    break;
            }
        }

        return errors;
    }

    /// <summary>Standard base64 or its URL-safe form (what the AppHost generates for secrets), padding optional.</summary>
    internal static byte[] DecodeKey(string text)
    {
        var normalized = text.Trim().Replace('-', '+').Replace('_', '/');
        normalized = normalized.PadRight(normalized.Length + ((4 - (normalized.Length % 4)) % 4), '=');
        return Convert.FromBase64String(normalized);
    }

    private static int? DecodedLength(string? text)
    {
        try
        {
            var key = DecodeKey(text ?? "");
            CryptographicOperations.ZeroMemory(key);
            return key.Length;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
