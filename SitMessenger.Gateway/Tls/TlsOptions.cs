namespace SitMessenger.Gateway.Tls;

/// <summary>HTTPS listener, redirect and HSTS. Configuration section "Tls".</summary>
internal sealed class TlsOptions
{
    public const string SectionName = "Tls";

    /// <summary>Port of the HTTPS listener; 0 means no HTTPS listener (and no redirect to HTTPS).</summary>
    public int HttpsPort { get; set; }

    /// <summary>
    /// The HTTPS port clients see, for redirects, when it differs from <see cref="HttpsPort"/> (a container published
    /// on 443, a load balancer). Default: <see cref="HttpsPort"/>.
    /// </summary>
    public int? PublicHttpsPort { get; set; }

    /// <summary>Redirect plain HTTP to HTTPS (308) when an HTTPS port is set; ACME challenges and health probes stay on HTTP.</summary>
    public bool RedirectToHttps { get; set; } = true;

    public TimeSpan HstsMaxAge { get; set; } = TimeSpan.FromDays(365);

    /// <summary>Off by default: it would bind every subdomain of the host to HTTPS, which the Gateway cannot promise.</summary>
    public bool HstsIncludeSubDomains { get; set; }

    public int EffectivePublicHttpsPort => PublicHttpsPort is > 0 ? PublicHttpsPort.Value : HttpsPort;
}
