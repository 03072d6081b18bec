using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace SitMessenger.SystemTests.Api;

/// <summary>
/// JWTs built by hand (base64url header and payload, HMAC-SHA256 over "header.payload"), to hand the API tokens it
/// must refuse. Starting from a real token's header and claims keeps every other claim right, so each refusal is
/// caused by the one thing changed.
/// </summary>
internal static class HandMadeTokens
{
    public const string Issuer = "sit-messenger";
    public const string Audience = "sit-messenger-api";

    /// <summary>The key the AppHost generated for this state folder (the API uses its UTF-8 bytes as the HMAC key).</summary>
    public static byte[] RealSigningKey(string stateDirectory)
    {
        var secrets = JsonNode.Parse(File.ReadAllText(Path.Combine(stateDirectory, "secrets.json")))!.AsObject();
        var key = secrets["jwt-signing-key"]?.GetValue<string>();
        Assert.False(string.IsNullOrEmpty(key), "secrets.json holds no 'jwt-signing-key'");
        return Encoding.UTF8.GetBytes(key!);
    }

    public static JsonObject Header(string jwt) => Part(jwt, 0);

    public static JsonObject Payload(string jwt) => Part(jwt, 1);

    /// <summary>"header.payload.signature"; no key gives an empty signature (what <c>alg: none</c> tokens carry).</summary>
    public static string Encode(JsonObject header, JsonObject payload, byte[]? key)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(payload);
        var signingInput = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(header.ToJsonString()))
            + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload.ToJsonString()));
        var signature = key is null ? "" : Base64Url.EncodeToString(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(signingInput)));
        return signingInput + "." + signature;
    }

    public static long UnixNow() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private static JsonObject Part(string jwt, int index)
    {
        ArgumentNullException.ThrowIfNull(jwt);
        var parts = jwt.Split('.');
        Assert.True(parts.Length == 3, $"not a JWS compact token: {jwt}");
        var node = JsonNode.Parse(Base64Url.DecodeFromChars(parts[index]));
        Assert.True(node is JsonObject, $"token part {index} is not a JSON object");
        return (JsonObject)node!;
    }

    /// <summary>A deep copy, so that changing one claim never changes the token it came from.</summary>
    public static JsonObject Copy(JsonObject source) => JsonNode.Parse(source?.ToJsonString() ?? throw new ArgumentNullException(nameof(source)))!.AsObject();
}
