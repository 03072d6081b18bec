namespace SitMessenger.Bench.Load;

/// <summary>One measured run still to make: what it sends, with which senders (new ones: each records its own latencies).</summary>
internal sealed record RunPlan(string Label, BenchMode Mode, bool Direct, string What, IReadOnlyList<Sender> Senders)
{
    /// <summary>What the run counts: messages for a send, requests for the GET.</summary>
    public string Unit => Mode == BenchMode.Get ? "req/s" : "msg/s";

    /// <summary>
    /// The runs of <see cref="BenchOptions.Modes"/> in order, sender s sending as <paramref name="seats"/>[s] (its chat
    /// and that chat's creator) in every run. GET is two runs, through the Gateway then straight to the Api (sender s
    /// to replica s % replicas, as the Gateway spreads them), the second only when an Api address is known.
    /// </summary>
    public static IEnumerable<RunPlan> For(
        BenchOptions options, IReadOnlyList<(string ChatId, BenchUser Creator)> seats, string message, IReadOnlyList<Uri> apiServers)
    {
        foreach (var mode in options.Modes)
        {
            switch (mode)
            {
                case BenchMode.Patch:
                    yield return Send("PATCH", mode, SendMode.Patch, "the web client's send (answers with the chat's latest 100 messages)");
                    break;
                case BenchMode.Post:
                    yield return Send("POST", mode, SendMode.Post, "the light send");
                    break;
                case BenchMode.Get:
                    yield return new RunPlan("GET gateway", mode, false, $"{SendRequest.Me("-").Description} through the Gateway",
                        [.. seats.Select(seat => new Sender(SendRequest.Me(seat.Creator.AccessToken)))]);
                    if (apiServers.Count > 0)
                    {
                        yield return new RunPlan("GET direct", mode, true,
                            $"{SendRequest.Me("-").Description} straight to the Api ({string.Join(", ", apiServers)})",
                            [.. seats.Select((seat, s) => new Sender(SendRequest.Me(seat.Creator.AccessToken, apiServers[s % apiServers.Count])))]);
                    }

                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(options), mode, "Unknown run.");
            }
        }

        RunPlan Send(string label, BenchMode mode, SendMode send, string what)
        {
            var senders = seats.Select(seat => new Sender(new SendRequest(send, seat.ChatId, seat.Creator.AccessToken, message))).ToList();
            var request = senders[0].Request.Description.Replace(seats[0].ChatId, "{id}", StringComparison.Ordinal);
            return new RunPlan(label, mode, false, $"{request}: {what}", senders);
        }
    }
}

/// <summary>A run made: its plan, the warm-up it had, and what it measured.</summary>
internal sealed record BenchRun(RunPlan Plan, int WarmupSeconds, MainRunResult Result);
