using System.Diagnostics.Metrics;

namespace SitMessenger.Gateway.Tls;

/// <summary>
/// <c>sit.gateway.certificate.expiry</c>: seconds until each served certificate expires, one series per host name,
/// so an alert can fire long before a failing renewal turns into an outage.
/// </summary>
internal sealed class CertificateMetrics
{
    public const string MeterName = "SitMessenger.Gateway";
    public const string ExpiryInstrument = "sit.gateway.certificate.expiry";

    public CertificateMetrics(IMeterFactory meters, CertificateSelector selector, TimeProvider time)
    {
        var meter = meters.Create(MeterName);
        meter.CreateObservableGauge(
            ExpiryInstrument,
            () => Observe(selector, time),
            unit: "s",
            description: "Seconds until the served TLS certificate expires (NotAfter), per domain");
    }

    internal static IEnumerable<Measurement<double>> Observe(CertificateSelector selector, TimeProvider time)
    {
        var now = time.GetUtcNow();
        foreach (var entry in selector.Entries)
        {
            var seconds = (entry.NotAfter - now).TotalSeconds;
            foreach (var domain in entry.Domains)
            {
                yield return new Measurement<double>(seconds, new KeyValuePair<string, object?>("domain", domain));
            }
        }
    }
}
