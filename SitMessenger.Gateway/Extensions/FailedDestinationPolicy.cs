using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace SitMessenger.Gateway.Extensions;

/// <summary>
/// Passive health: a request that timed out on a replica, or could not reach it, takes that replica out of the rotation
/// for the cluster's reactivation period at once. YARP's TransportFailureRate waits for a failure rate over a window,
/// and a replica that served well for a minute before it froze would keep getting requests for many timeouts more.
/// The failed request itself is not retried elsewhere: it may have been half-processed (a send stored, not answered).
/// </summary>
internal sealed class FailedDestinationPolicy(IDestinationHealthUpdater health) : IPassiveHealthCheckPolicy
{
    public const string PolicyName = "FailedDestination";

    public string Name => PolicyName;

    public void RequestProxied(HttpContext context, ClusterState cluster, DestinationState destination)
    {
        if (context.Features.Get<IForwarderErrorFeature>()?.Error is not (ForwarderError.Request or ForwarderError.RequestTimedOut))
        {
            return;
        }

        var reactivation = cluster.Model.Config.HealthCheck?.Passive?.ReactivationPeriod ?? new ProxyOptions().ReactivationPeriod;
        health.SetPassive(cluster, destination, DestinationHealth.Unhealthy, reactivation);
    }
}
