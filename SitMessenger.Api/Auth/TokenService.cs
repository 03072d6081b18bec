using System.Security.Claims;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace SitMessenger.Api.Auth;

/// <summary>Issues and checks the signed JWTs. Access and refresh tokens differ by their <c>token_type</c> claim.</summary>
internal sealed class TokenService
{
    public const string TokenTypeClaim = "token_type";
    public const string FamilyClaim = "fam";
    public const string UsernameClaim = "username";
    public const string AccessType = "access";
    public const string RefreshType = "refresh";

    private readonly JwtOptions _options;
    private readonly TimeProvider _time;
    private readonly SigningCredentials _credentials;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    public TokenService(IOptions<JwtOptions> options, TimeProvider time)
    {
        _options = options.Value;
        _time = time;
        _credentials = new SigningCredentials(SigningKey(_options), SecurityAlgorithms.HmacSha256);
        ValidationParameters = CreateValidationParameters(_options);
    }

    public TokenValidationParameters ValidationParameters { get; }

    public static SymmetricSecurityKey SigningKey(JwtOptions options) => new(Encoding.UTF8.GetBytes(options.SigningKey));

    public static TokenValidationParameters CreateValidationParameters(JwtOptions options) => new()
    {
        ValidIssuer = options.Issuer,
        ValidAudience = options.Audience,
        IssuerSigningKey = SigningKey(options),
        // Only our own algorithm: no "none", no algorithm confusion.
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        RequireSignedTokens = true,
        RequireExpirationTime = true,
        ValidateIssuer = true,
        ValidateAudience = true,
        ValidateLifetime = true,
        ValidateIssuerSigningKey = true,
        ClockSkew = options.ClockSkew,
        NameClaimType = UsernameClaim,
    };

    public IssuedToken CreateAccessToken(Guid userId, string username, Guid familyId) =>
        Create(userId, familyId, AccessType, _options.AccessTokenLifetime, new Dictionary<string, object> { [UsernameClaim] = username });

    public IssuedToken CreateRefreshToken(Guid userId, Guid familyId) =>
        Create(userId, familyId, RefreshType, _options.RefreshTokenLifetime, []);

    private IssuedToken Create(Guid userId, Guid familyId, string type, TimeSpan lifetime, Dictionary<string, object> extra)
    {
        var now = _time.GetUtcNow();
        var id = Guid.CreateVersion7(now);
        var claims = new Dictionary<string, object>(extra)
        {
            [JwtRegisteredClaimNames.Sub] = userId.ToString(),
            [JwtRegisteredClaimNames.Jti] = id.ToString(),
            [TokenTypeClaim] = type,
            [FamilyClaim] = familyId.ToString(),
        };
        var expires = now + lifetime;
        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _options.Issuer,
            Audience = _options.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            Claims = claims,
            SigningCredentials = _credentials,
        });
        return new IssuedToken(token, id, expires);
    }

    /// <summary>Validates signature, issuer, audience, lifetime and type; null when any fails.</summary>
    public async Task<ValidatedToken?> ValidateAsync(string? token, string? expectedType)
    {
        if (string.IsNullOrWhiteSpace(token))
        {
            return null;
        }

        var result = await _handler.ValidateTokenAsync(token, ValidationParameters);
        if (!result.IsValid)
        {
            return null;
        }

        var principal = new ClaimsPrincipal(result.ClaimsIdentity);
        var type = principal.FindFirstValue(TokenTypeClaim);
        if (expectedType is not null && type != expectedType)
        {
            return null;
        }

        return Guid.TryParse(principal.FindFirstValue(JwtRegisteredClaimNames.Sub), out var userId)
            && Guid.TryParse(principal.FindFirstValue(JwtRegisteredClaimNames.Jti), out var tokenId)
            && Guid.TryParse(principal.FindFirstValue(FamilyClaim), out var familyId)
            ? new ValidatedToken(userId, tokenId, familyId, type ?? "")
            : null;
    }
}

internal sealed record IssuedToken(string Token, Guid Id, DateTimeOffset Expires);

internal sealed record ValidatedToken(Guid UserId, Guid TokenId, Guid FamilyId, string Type);

internal static class CallerExtensions
{
    /// <summary>The authenticated caller's user id (the access token's subject).</summary>
    public static Guid UserId(this ClaimsPrincipal user) =>
        Guid.Parse(user.FindFirstValue(JwtRegisteredClaimNames.Sub) ?? throw new InvalidOperationException("No subject claim on an authenticated caller."));

    public static string Username(this ClaimsPrincipal user) => user.FindFirstValue(TokenService.UsernameClaim) ?? "";
}
