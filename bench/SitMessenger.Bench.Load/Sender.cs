using System.Diagnostics;
using System.Net;

namespace SitMessenger.Bench.Load;

/// <summary>
/// One closed-loop sender: sends, waits for the answer, sends again. Everything it records is its own (latencies,
/// errors), so the hot path takes no lock; the progress reporter only reads two counters.
/// </summary>
internal sealed class Sender(SendRequest request)
{
    private long _succeeded;
    private long _failed;

    public SendRequest Request { get; } = request;

    /// <summary>Latency in ms of each successful send that started inside the measured window.</summary>
    public List<double> Latencies { get; } = new(capacity: 16_384);

    public ErrorTally MeasuredErrors { get; } = new();

    public ErrorTally WarmupErrors { get; } = new();

    public long WarmupSucceeded { get; private set; }

    public long Succeeded => Volatile.Read(ref _succeeded);

    public long Failed => Volatile.Read(ref _failed);

    /// <summary>Sends until <paramref name="stopAt"/> (a <see cref="Stopwatch"/> timestamp); sends started from <paramref name="measureFrom"/> on are measured.</summary>
    public async Task RunAsync(HttpClient http, long measureFrom, long stopAt, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var started = Stopwatch.GetTimestamp();
            if (started >= stopAt)
            {
                break;
            }

            var outcome = await SendOnceAsync(Request, http, cancellationToken);
            var ended = Stopwatch.GetTimestamp();
            if (outcome is null)
            {
                break; // Cancelled.
            }

            var measured = started >= measureFrom;
            if (outcome.Value.Succeeded)
            {
                Volatile.Write(ref _succeeded, _succeeded + 1);
                if (measured)
                {
                    Latencies.Add(Stopwatch.GetElapsedTime(started, ended).TotalMilliseconds);
                }
                else
                {
                    WarmupSucceeded++;
                }
            }
            else
            {
                Volatile.Write(ref _failed, _failed + 1);
                (measured ? MeasuredErrors : WarmupErrors).Add(outcome.Value.Key, outcome.Value.Body ?? "");
            }
        }
    }

    /// <summary>One send; a transport failure becomes an outcome too (keyed by what went wrong). Null when cancelled.</summary>
    public static async Task<SendOutcome?> SendOnceAsync(SendRequest request, HttpClient http, CancellationToken cancellationToken, bool readSeq = false)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(http);
        try
        {
            return await request.SendAsync(http, cancellationToken, readSeq);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (TaskCanceledException)
        {
            return new SendOutcome(false, HttpStatusCode.RequestTimeout, $"no answer within {http.Timeout.TotalSeconds} s (client timeout)")
            {
                KeyOverride = "client timeout",
            };
        }
        catch (HttpRequestException ex)
        {
            return new SendOutcome(false, 0, ex.Message) { KeyOverride = $"transport error ({ex.HttpRequestError})" };
        }
    }
}
