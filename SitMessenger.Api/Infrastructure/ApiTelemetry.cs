using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace SitMessenger.Api.Infrastructure;

/// <summary>The Api's own spans and counters. Never message content, usernames or tokens in tags.</summary>
internal sealed class ApiTelemetry : IDisposable
{
    public const string Name = "SitMessenger.Api";

    private readonly Meter _meter;

    public ApiTelemetry(IMeterFactory meters)
    {
        _meter = meters.Create(Name);
        MessagesSent = _meter.CreateCounter<long>("sit.messages.sent", description: "Messages stored durably (acknowledged to the sender)");
        Logins = _meter.CreateCounter<long>("sit.logins", description: "Successful logins");
        FailedLogins = _meter.CreateCounter<long>("sit.logins.failed", description: "Refused logins (bad credentials or throttled)");
    }

    public static ActivitySource Source { get; } = new(Name);

    public Counter<long> MessagesSent { get; }

    public Counter<long> Logins { get; }

    public Counter<long> FailedLogins { get; }

    public void Dispose() => _meter.Dispose();
}
