namespace SitMessenger.Gateway.Extensions;

/// <summary>How the Gateway notices an Api replica that stopped answering (configuration section <c>Gateway:Proxy</c>).</summary>
internal sealed class ProxyOptions
{
    public const string SectionName = "Gateway:Proxy";

    /// <summary>
    /// How long a REST request may go without a byte from the Api before the Gateway answers 504. A process that is
    /// frozen still accepts connections, so only this ends such a request. Measured here: a send answers in
    /// milliseconds and a login (password hashing) in 0.11-0.17 s, even at a load average of 22 on two cores; 10 s leaves
    /// legitimate slow requests alone. Hubs are not held to it: an idle real-time connection is quiet for 15 s between
    /// SignalR's keep-alives.
    /// </summary>
    public TimeSpan ActivityTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often each replica's <c>/alive</c> is probed. Two missed probes take a replica out of the rotation, so a
    /// frozen one stops getting new requests within about two intervals plus two probe timeouts.
    /// </summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary><c>/alive</c> answers in a millisecond; a replica that takes this long is not serving anyone.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a replica a request timed out on (or could not connect to) gets no new requests before it is tried again.</summary>
    public TimeSpan ReactivationPeriod { get; set; } = TimeSpan.FromSeconds(10);
}
