using Microsoft.Extensions.Logging;

namespace SitMessenger.Chat.Integrations;

/// <summary>
/// One line when a dependency (Redis, RabbitMQ) becomes unreachable and one when it is back: the clients raise an
/// event per failed reconnect attempt and per connection, and a request that meets the outage is served from a
/// fallback without an error to log, so without this an outage left no trace in the service's log.
/// </summary>
public sealed partial class OutageLog(string dependency, ILogger logger, TimeProvider time)
{
    private readonly Lock _gate = new();
    private DateTimeOffset? _downSince;

    public bool IsDown
    {
        get
        {
            lock (_gate)
            {
                return _downSince is not null;
            }
        }
    }

    /// <summary>The dependency failed; logged only when it was up until now.</summary>
    public void Down(string reason)
    {
        lock (_gate)
        {
            if (_downSince is not null)
            {
                return;
            }

            _downSince = time.GetUtcNow();
        }

        LogDown(logger, dependency, reason);
    }

    /// <summary>The dependency answers again; logged only when it was down.</summary>
    public void Up()
    {
        TimeSpan outage;
        lock (_gate)
        {
            if (_downSince is not { } since)
            {
                return;
            }

            outage = time.GetUtcNow() - since;
            _downSince = null;
        }

        LogUp(logger, dependency, outage.TotalSeconds);
    }

    [LoggerMessage(EventId = 9001, Level = LogLevel.Warning, Message = "{Dependency} is unreachable ({Reason}); reconnecting in the background")]
    private static partial void LogDown(ILogger logger, string dependency, string reason);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Information, Message = "{Dependency} is reachable again after {OutageSeconds:0.0} s")]
    private static partial void LogUp(ILogger logger, string dependency, double outageSeconds);
}
