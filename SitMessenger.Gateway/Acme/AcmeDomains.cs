using System.Globalization;

namespace SitMessenger.Gateway.Acme;

internal static class AcmeDomains
{
    /// <summary>Lower-case, without a trailing dot, duplicates removed, in the configured order (the first names the CSR).</summary>
    public static IReadOnlyList<string> Normalize(IEnumerable<string> domains) =>
        domains.Select(NormalizeHost).Where(d => d.Length > 0).Distinct(StringComparer.Ordinal).ToArray();

    public static string NormalizeHost(string host) => host.Trim().TrimEnd('.').ToLowerInvariant();

    /// <summary>
    /// Names one certificate in the stores: the CA (a staging certificate must never be served as a production one)
    /// and the sorted domain set (the same names in another order are the same certificate).
    /// </summary>
    public static string CertificateKey(Uri directoryUrl, IEnumerable<string> domains)
    {
        var authority = directoryUrl.IsDefaultPort
            ? directoryUrl.Host
            : string.Create(CultureInfo.InvariantCulture, $"{directoryUrl.Host}_{directoryUrl.Port}");
        var sorted = domains.Select(NormalizeHost).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        return authority.ToLowerInvariant() + "/" + string.Join(',', sorted);
    }

    public static bool IsValidHostName(string? host)
    {
        if (string.IsNullOrWhiteSpace(host))
        {
            return false;
        }

        var name = NormalizeHost(host);
        if (name.Length > 253)
        {
            return false;
        }

        foreach (var label in name.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
            {
                return false;
            }

            foreach (var c in label)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c == '-'))
                {
                    return false;
                }
            }
        }

        return true;
    }
}
