using System.Text.Json;
using System.Text.Json.Serialization;

namespace SitMessenger.Gateway.Acme;

// RFC 8555 section 7 resources: only the members this client reads or sends.

internal sealed record AcmeDirectory(
    Uri NewNonce,
    Uri NewAccount,
    Uri NewOrder,
    Uri? RevokeCert,
    Uri? KeyChange,
    AcmeDirectoryMeta? Meta);

internal sealed record AcmeDirectoryMeta(Uri? TermsOfService, Uri? Website, bool ExternalAccountRequired);

internal sealed record AcmeNewAccountRequest(bool TermsOfServiceAgreed, string[]? Contact);

internal sealed record AcmeAccountResource(string? Status, string[]? Contact, Uri? Orders);

internal sealed record AcmeIdentifier(string Type, string Value)
{
    public static AcmeIdentifier Dns(string name) => new("dns", name);
}

internal sealed record AcmeNewOrderRequest(AcmeIdentifier[] Identifiers);

internal sealed record AcmeOrderResource(
    string Status,
    DateTimeOffset? Expires,
    AcmeIdentifier[] Identifiers,
    Uri[] Authorizations,
    Uri Finalize,
    Uri? Certificate,
    AcmeProblem? Error);

internal sealed record AcmeAuthorizationResource(
    AcmeIdentifier Identifier,
    string Status,
    DateTimeOffset? Expires,
    AcmeChallengeResource[] Challenges,
    bool Wildcard);

internal sealed record AcmeChallengeResource(string Type, Uri Url, string Status, string? Token, DateTimeOffset? Validated, AcmeProblem? Error);

internal sealed record AcmeFinalizeRequest(string Csr);

/// <summary>The status values RFC 8555 section 7.1.6 defines; only the ones this client branches on.</summary>
internal static class AcmeStatus
{
    public const string Pending = "pending";
    public const string Ready = "ready";
    public const string Processing = "processing";
    public const string Valid = "valid";
    public const string Invalid = "invalid";
}

internal static class AcmeChallengeTypes
{
    public const string Http01 = "http-01";
    public const string TlsAlpn01 = "tls-alpn-01";
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    PropertyNameCaseInsensitive = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    // Problem documents and new CAs may add members; this client ignores what it does not know.
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(AcmeDirectory))]
[JsonSerializable(typeof(AcmeNewAccountRequest))]
[JsonSerializable(typeof(AcmeAccountResource))]
[JsonSerializable(typeof(AcmeNewOrderRequest))]
[JsonSerializable(typeof(AcmeOrderResource))]
[JsonSerializable(typeof(AcmeAuthorizationResource))]
[JsonSerializable(typeof(AcmeChallengeResource))]
[JsonSerializable(typeof(AcmeFinalizeRequest))]
[JsonSerializable(typeof(AcmeProblem))]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class AcmeJsonContext : JsonSerializerContext;
