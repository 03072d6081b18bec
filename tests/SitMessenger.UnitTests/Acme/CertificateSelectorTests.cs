using SitMessenger.Gateway.Tls;

namespace SitMessenger.UnitTests.Acme;

public sealed class CertificateSelectorTests : IDisposable
{
    private readonly TestCertificates _ca = new();

    public void Dispose() => _ca.Dispose();

    [Fact]
    public void An_empty_selector_has_nothing_to_serve()
    {
        var selector = new CertificateSelector();

        Assert.Null(selector.Select("sit.example"));
        Assert.Null(selector.SelectContext(null));
    }

    [Fact]
    public void Exact_name_then_wildcard_then_default()
    {
        var selector = new CertificateSelector();
        using var first = _ca.IssueWithKey("sit.example", "www.sit.example");
        using var wildcard = _ca.IssueWithKey("*.apps.example");
        using var exact = _ca.IssueWithKey("special.apps.example");
        selector.Set(["sit.example", "www.sit.example"], first);
        selector.Set(["*.apps.example"], wildcard);
        selector.Set(["special.apps.example"], exact);

        Assert.Same(first, selector.Select("www.sit.example"));
        Assert.Same(first, selector.Select("WWW.Sit.Example."));
        Assert.Same(exact, selector.Select("special.apps.example"));
        Assert.Same(wildcard, selector.Select("chat.apps.example"));
        // A wildcard covers one label only.
        Assert.Same(first, selector.Select("a.b.apps.example"));
        Assert.Same(first, selector.Select("apps.example"));
        // No SNI (an IP address typed in) or an unknown name: the first certificate set is the default.
        Assert.Same(first, selector.Select(null));
        Assert.Same(first, selector.Select("unknown.example"));
    }

    [Fact]
    public void Setting_the_same_names_again_swaps_the_certificate_in_place()
    {
        var selector = new CertificateSelector();
        using var old = _ca.IssueWithKey("sit.example");
        using var other = _ca.IssueWithKey("other.example");
        using var renewed = _ca.IssueWithKey("sit.example");
        selector.Set(["sit.example"], old);
        selector.Set(["other.example"], other);

        selector.Set(["SIT.example"], renewed);

        Assert.Same(renewed, selector.Select("sit.example"));
        Assert.Same(renewed, selector.Select(null));
        Assert.Equal(2, selector.Entries.Count);
    }

    [Fact]
    public void The_context_carries_the_intermediate()
    {
        var selector = new CertificateSelector();
        using var leaf = _ca.IssueWithKey("sit.example");

        selector.Set(["sit.example"], leaf, [_ca.Intermediate]);

        var context = selector.SelectContext("sit.example");
        Assert.NotNull(context);
        Assert.Same(leaf, context.TargetCertificate);
        Assert.Contains(context.IntermediateCertificates, c => c.Thumbprint == _ca.Intermediate.Thumbprint);
    }

    [Fact]
    public void The_local_certificate_covers_localhost_and_loopback_addresses()
    {
        using var local = LocalCertificate.Create(DateTimeOffset.UtcNow);
        var selector = new CertificateSelector();

        selector.Set(LocalCertificate.HostNames, local);

        Assert.True(local.HasPrivateKey);
        Assert.Same(local, selector.Select("localhost"));
        Assert.Same(local, selector.Select("127.0.0.1"));
        Assert.True(local.MatchesHostname("localhost"));
        Assert.True(local.MatchesHostname("127.0.0.1"));
    }

    [Fact]
    public void The_expiry_gauge_reports_seconds_left_per_domain()
    {
        var selector = new CertificateSelector();
        using var leaf = _ca.IssueWithKey("sit.example", "www.sit.example");
        selector.Set(["sit.example", "www.sit.example"], leaf);

        var measurements = CertificateMetrics.Observe(selector, TimeProvider.System).ToList();

        Assert.Equal(["sit.example", "www.sit.example"], measurements.Select(m => (string)m.Tags[0].Value!));
        Assert.All(measurements, m => Assert.InRange(m.Value, TimeSpan.FromDays(88).TotalSeconds, TimeSpan.FromDays(89).TotalSeconds));
    }
}
