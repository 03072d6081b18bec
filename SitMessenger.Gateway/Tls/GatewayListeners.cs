using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace SitMessenger.Gateway.Tls;

/// <summary>
/// The Gateway's listeners when it serves HTTPS itself. Kestrel ignores ASPNETCORE_URLS (and logs "Overriding
/// address(es)") as soon as code calls Listen*, so the HTTP addresses from ASPNETCORE_URLS / --urls /
/// ASPNETCORE_HTTP_PORTS are read here and bound in code, next to the HTTPS port (Tls:HttpsPort) on the same
/// addresses. The hosting URLs are then cleared so Kestrel binds each address once.
/// </summary>
internal static class GatewayListeners
{
    internal sealed record Address(string Scheme, string Host, int Port)
    {
        public bool IsHttps => Scheme.Equals(Uri.UriSchemeHttps, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Kestrel's own default when nothing is configured.</summary>
    private static readonly Address DefaultAddress = new("http", "localhost", 5000);

    /// <summary>"http://127.0.0.1:8000;https://*:8443" and the like, as Kestrel reads them; plus bare ports from http_ports/https_ports.</summary>
    public static IReadOnlyList<Address> Parse(string? urls, string? httpPorts = null, string? httpsPorts = null)
    {
        var addresses = new List<Address>();
        foreach (var url in (urls ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            addresses.Add(ParseUrl(url));
        }

        // Kestrel uses the port lists only when no URLs are set.
        if (addresses.Count == 0)
        {
            addresses.AddRange(Ports(httpPorts).Select(p => new Address("http", "*", p)));
            addresses.AddRange(Ports(httpsPorts).Select(p => new Address("https", "*", p)));
        }

        return addresses;
    }

    public static Address ParseUrl(string url)
    {
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
        {
            throw new FormatException($"'{url}' is not a listen URL (scheme://host:port).");
        }

        var scheme = url[..schemeEnd].ToLowerInvariant();
        var rest = url[(schemeEnd + 3)..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = slash >= 0 ? rest[..slash] : rest;
        string host;
        string? port;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']', StringComparison.Ordinal);
            host = authority[1..close];
            port = authority.Length > close + 2 && authority[close + 1] == ':' ? authority[(close + 2)..] : null;
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            host = colon >= 0 ? authority[..colon] : authority;
            port = colon >= 0 ? authority[(colon + 1)..] : null;
        }

        var number = port is null ? (scheme == "https" ? 443 : 80) : int.Parse(port, NumberStyles.None, CultureInfo.InvariantCulture);
        return new Address(scheme, host, number);
    }

    /// <summary>
    /// Binds every configured address, and the HTTPS port on each distinct HTTP host. <paramref name="useHttps"/> turns a
    /// listener into an HTTPS one.
    /// </summary>
    public static void Configure(KestrelServerOptions kestrel, IReadOnlyList<Address> configured, int httpsPort, Action<ListenOptions> useHttps)
    {
        var addresses = configured.Count > 0 ? configured.ToList() : [DefaultAddress];
        if (httpsPort > 0)
        {
            var hosts = addresses.Where(a => !a.IsHttps).Select(a => a.Host).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            // One any-address listener covers every host; binding both would clash on the port.
            if (hosts.Exists(IsAnyHost))
            {
                hosts = ["*"];
            }

            foreach (var host in hosts.DefaultIfEmpty("*"))
            {
                if (!addresses.Exists(a => a.IsHttps && a.Port == httpsPort && string.Equals(a.Host, host, StringComparison.OrdinalIgnoreCase)))
                {
                    addresses.Add(new Address("https", host, httpsPort));
                }
            }
        }

        foreach (var address in addresses)
        {
            Action<ListenOptions> configure = address.IsHttps ? useHttps : _ => { };
            Listen(kestrel, address, configure);
        }
    }

    private static void Listen(KestrelServerOptions kestrel, Address address, Action<ListenOptions> configure)
    {
        if (address.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            if (address.Port == 0)
            {
                // Kestrel refuses a dynamic port on "localhost" (two sockets could not share it): IPv4 loopback then.
                kestrel.Listen(IPAddress.Loopback, 0, configure);
            }
            else
            {
                kestrel.ListenLocalhost(address.Port, configure);
            }
        }
        else if (IPAddress.TryParse(address.Host, out var ip))
        {
            kestrel.Listen(ip, address.Port, configure);
        }
        else
        {
            // "*", "+" and host names: every address, as Kestrel does for them itself.
            kestrel.ListenAnyIP(address.Port, configure);
        }
    }

    private static bool IsAnyHost(string host)
    {
        if (host is "*" or "+")
        {
            return true;
        }

        if (IPAddress.TryParse(host, out var ip))
        {
            return ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any);
        }

        return !host.Equals("localhost", StringComparison.OrdinalIgnoreCase);
    }

    private static IEnumerable<int> Ports(string? ports) =>
        (ports ?? string.Empty).Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => int.Parse(p, NumberStyles.None, CultureInfo.InvariantCulture));
}
