using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using SitMessenger.Gateway.Acme;

namespace SitMessenger.Gateway.Tls;

/// <summary>
/// The certificates Kestrel serves, by SNI host name: exact name, then a wildcard one label up, then the default
/// (the first set, for clients that send no SNI or an unknown name). <see cref="Set"/> swaps a certificate in for new
/// handshakes without a restart; connections already open keep theirs.
/// </summary>
internal sealed class CertificateSelector
{
    private readonly object _gate = new();
    private Snapshot _snapshot = Snapshot.Empty;

    /// <summary>What the selector holds: one entry per set of names.</summary>
    internal sealed record Entry(IReadOnlyList<string> Domains, X509Certificate2 Certificate, SslStreamCertificateContext Context)
    {
        public DateTimeOffset NotAfter => new(Certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
    }

    public IReadOnlyList<Entry> Entries => _snapshot.Entries;

    public X509Certificate2? Select(string? serverName) => Find(serverName)?.Certificate;

    /// <summary>The certificate with its intermediates, ready for SslStream: what the HTTPS listener uses.</summary>
    public SslStreamCertificateContext? SelectContext(string? serverName) => Find(serverName)?.Context;

    /// <summary>
    /// Serves <paramref name="certificate"/> for <paramref name="domains"/> from the next handshake on. An entry for the
    /// same names is replaced in place (keeping its place as default); names another entry also had move to this one.
    /// </summary>
    public void Set(IEnumerable<string> domains, X509Certificate2 certificate, X509Certificate2Collection? chain = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var names = AcmeDomains.Normalize(domains);
        if (names.Count == 0)
        {
            throw new ArgumentException("A certificate needs at least one host name.", nameof(domains));
        }

        // offline: the chain comes from the CA's download, so no need to fetch intermediates (AIA) at handshake time.
        var context = SslStreamCertificateContext.Create(certificate, chain, offline: true);
        var entry = new Entry(names, certificate, context);
        lock (_gate)
        {
            var entries = _snapshot.Entries.ToList();
            var same = entries.FindIndex(e => e.Domains.Order(StringComparer.Ordinal).SequenceEqual(names.Order(StringComparer.Ordinal)));
            if (same >= 0)
            {
                entries[same] = entry;
            }
            else
            {
                entries.Add(entry);
            }

            _snapshot = Snapshot.Build(entries);
        }
    }

    private Entry? Find(string? serverName)
    {
        var snapshot = _snapshot;
        if (!string.IsNullOrEmpty(serverName))
        {
            var host = AcmeDomains.NormalizeHost(serverName);
            if (snapshot.Exact.TryGetValue(host, out var exact))
            {
                return exact;
            }

            // "*.example.com" covers exactly one label: a.example.com, not example.com nor a.b.example.com.
            var dot = host.IndexOf('.', StringComparison.Ordinal);
            if (dot > 0 && snapshot.Wildcard.TryGetValue(host[(dot + 1)..], out var wildcard))
            {
                return wildcard;
            }
        }

        return snapshot.Default;
    }

    private sealed record Snapshot(
        IReadOnlyList<Entry> Entries,
        IReadOnlyDictionary<string, Entry> Exact,
        IReadOnlyDictionary<string, Entry> Wildcard,
        Entry? Default)
    {
        public static Snapshot Empty { get; } = Build([]);

        public static Snapshot Build(IReadOnlyList<Entry> entries)
        {
            var exact = new Dictionary<string, Entry>(StringComparer.Ordinal);
            var wildcard = new Dictionary<string, Entry>(StringComparer.Ordinal);
            // Later entries win a shared name: the newest certificate set for it is the one meant.
            foreach (var entry in entries)
            {
                foreach (var name in entry.Domains)
                {
                    if (name.StartsWith("*.", StringComparison.Ordinal))
                    {
                        wildcard[name[2..]] = entry;
                    }
                    else
                    {
                        exact[name] = entry;
                    }
                }
            }

            return new Snapshot(entries, exact, wildcard, entries.Count > 0 ? entries[0] : null);
        }
    }
}
