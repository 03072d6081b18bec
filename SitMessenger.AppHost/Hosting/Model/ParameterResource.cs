using System.Security.Cryptography;
using System.Text.Json;

namespace SitMessenger.AppHost.Hosting;

/// <summary>
/// A value handed to services, usually a secret. Taken from configuration (<c>Parameters__{name}</c>) when set,
/// otherwise generated once and kept in the state folder so restarts see the same database passwords and keys.
/// </summary>
public sealed class ParameterResource(string name, bool secret) : Resource(name)
{
    private string? _value;

    public bool Secret { get; } = secret;

    public override string Kind => "Parameter";

    public string Value => _value ?? throw new InvalidOperationException($"Parameter '{Name}' is read before the application is built.");

    internal void Resolve(string value) => _value = value;
}

/// <summary>The generated secrets of one state folder, in a file only its owner can read.</summary>
internal sealed class SecretStore(string path)
{
    private readonly Dictionary<string, string> _values = Load(path);

    public string GetOrCreate(string name)
    {
        if (_values.TryGetValue(name, out var existing))
        {
            return existing;
        }

        // 32 random bytes: enough for HMAC-SHA256 and AES-256 keys; URL-safe so it fits in URIs and connection strings.
        var value = Base64UrlSafe(RandomNumberGenerator.GetBytes(32));
        _values[name] = value;
        Save();
        return value;
    }

    private static string Base64UrlSafe(byte[] bytes) =>
        Convert.ToBase64String(bytes).Replace('+', '-').Replace('/', '_').TrimEnd('=');

    private static Dictionary<string, string> Load(string path) =>
        File.Exists(path)
            ? JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)) ?? []
            : [];

    private void Save()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            JsonSerializer.Serialize(stream, _values, new JsonSerializerOptions { WriteIndented = true });
        }

        File.Move(temporary, path, overwrite: true);
    }
}
