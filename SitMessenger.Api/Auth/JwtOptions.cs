using System.ComponentModel.DataAnnotations;

namespace SitMessenger.Api.Auth;

/// <summary>Token settings (section "Jwt"). The signing key comes from a secret: the AppHost generates one locally.</summary>
internal sealed class JwtOptions
{
    public const string SectionName = "Jwt";

    [Required(ErrorMessage = "Jwt:SigningKey is not set: configure a random secret of at least 32 characters (the AppHost generates one for local runs).")]
    [MinLength(32, ErrorMessage = "Jwt:SigningKey must be at least 32 characters (256 bits for HMAC-SHA256).")]
    public string SigningKey { get; set; } = "";

    public string Issuer { get; set; } = "sit-messenger";

    public string Audience { get; set; } = "sit-messenger-api";

    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromHours(3);

    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Tolerance for clocks of different machines when checking expiry.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);
}
