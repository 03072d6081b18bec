using System.Globalization;

namespace SitMessenger.Bench.Load;

internal enum SendMode
{
    /// <summary><c>POST /api/v1/chat/{id}/messages/</c> with <c>{"message": ...}</c>: the light send.</summary>
    Post,

    /// <summary><c>PATCH /api/v1/chat/{id}/</c> with <c>{"new_message": ...}</c>: answers with the last 100 messages.</summary>
    Patch,
}

/// <summary>What one measured run of the default benchmark sends: one of the two sends, or a small authenticated GET.</summary>
internal enum BenchMode
{
    /// <summary>The web client's send (<see cref="SendMode.Patch"/>).</summary>
    Patch,

    /// <summary>The light send (<see cref="SendMode.Post"/>).</summary>
    Post,

    /// <summary><c>GET /api/v1/users/me/</c> with a bearer token, through the Gateway and straight to the Api.</summary>
    Get,
}

internal sealed class OptionsException(string message) : Exception(message);

/// <summary>The command line, parsed by hand: <c>--name value</c> or <c>--name=value</c>.</summary>
internal sealed class BenchOptions
{
    public const int MaxMessageLength = 3750;

    public const string Usage = """
        SIT Messenger load benchmark: many concurrent senders, closed loop, against the real system.

        Usage: dotnet run -c Release --project bench/SitMessenger.Bench.Load -- [options]

          --senders N              concurrent senders (default 32)
          --duration S             seconds of measured sending (default 20; 0 = skip the main run)
          --warmup S               seconds of sending before the first measured run (default 30: under this load
                                   the .NET processes take ~25 s to reach their final JIT-compiled code)
          --warmup-next S          seconds of sending before each following run (default 10)
          --chats N                chats the senders send into, shared round-robin (default = senders)
          --mode LIST              the runs, in order, as a comma list of (default patch,post,get):
                                     patch = PATCH /api/v1/chat/{id}/ {"new_message": ...}, the web client's send
                                             (answers with the chat's latest 100 messages)
                                     post  = POST /api/v1/chat/{id}/messages/ {"message": ...}, the light send
                                     get   = GET /api/v1/users/me/ with the senders' tokens, measured twice:
                                             through the Gateway, then straight to the Api (req/s)
                                   Each run: warm-up, then the measured window, same senders and chats. Printed per
                                   run and side by side: msg/s, p50/p95/p99/max, errors, each process's CPU seconds
                                   in the window, the services' peak and current RSS, and their RSS sum; then
                                   PATCH / POST and Gateway / direct throughput.
          --message-size N         characters per message, 1..3750 (default 100)
          --prefill N              also send N messages into one extra chat, then compare send latency there
                                   with a fresh empty chat (default 0 = off), with the first send of --mode
          --prefill-concurrency N  concurrent posts while prefilling (default 64)
          --compare-sends N        sequential sends into each of the two chats for that comparison (default 500)
          --flush-delay S          the system's flush delay in seconds (default: the AppHost's 20 s); own system only

        Pipeline mode (the background flush of pending messages into segments; replaces the runs above):
          --pipeline               measure 1. flush throughput, 2. end-to-end send-to-segment time at a steady rate,
                                   3. read latency of a short and a long chat, both fully flushed
          --pipeline-messages N    1: messages prefilled into one chat, then drained (default 20000; 0 = skip)
          --rate N                 2: messages/s offered by an open-loop (timer-paced) sender (default 1000) for
                                   --duration seconds (0 = skip) into --chats chats (default 32)
          --max-in-flight N        2: sends the open-loop sender keeps in flight at most (default 64); when the
                                   system is slower than the rate, sends start late and the achieved rate drops
          --big-chat N             3: messages in the long chat (default 100000; 0 = skip); the short one has 100
          --reads N                3: sequential reads of each chat per request kind, interleaved (default 300)
          (--prefill-concurrency sets the concurrent posts of the fills in 1 and 3; --warmup does not apply;
          sends are POSTs, whose answers carry the seq the end-to-end times need.)

          --url URL                use an already running Gateway (e.g. http://localhost:8000) instead of
                                   starting a system of its own
          --api-pid N              with --url: the Api's process id, to report its memory and CPU seconds
          --api-url URL            with --url: the Api's own address, for the direct GET (without it, skipped)
          --database CONN          with --url and --pipeline: the PostgreSQL connection string (Npgsql keywords)
          -h, --help               this text

        Without --url it starts a complete system (PostgreSQL, Redis, RabbitMQ, every service) on free ports in a
        temporary state folder, exactly as the system tests do, and removes it at the end; it then knows every
        process (CPU of each service and of each server's whole process tree; the services' memory) and the Api's
        own address. Its logs stay in the state folder: the console shows only the benchmark's lines.
        Registration and login are throttled to 20 per minute per address: it registers at most 8 users, which
        the senders share.
        """;

    public int Senders { get; private set; } = 32;

    public int DurationSeconds { get; private set; } = 20;

    public int WarmupSeconds { get; private set; } = 30;

    /// <summary>Warm-up before every run after the first: the processes are already warm, the route is not.</summary>
    public int WarmupNextSeconds { get; private set; } = 10;

    /// <summary>The runs, in the order given.</summary>
    public IReadOnlyList<BenchMode> Modes { get; private set; } = [BenchMode.Patch, BenchMode.Post, BenchMode.Get];

    public int Chats { get; private set; }

    /// <summary>The send of the prefill comparison: the first send in <see cref="Modes"/>, POST when there is none.</summary>
    public SendMode Mode => Modes.FirstOrDefault(m => m != BenchMode.Get, BenchMode.Post) == BenchMode.Patch ? SendMode.Patch : SendMode.Post;

    public int MessageSize { get; private set; } = 100;

    public int Prefill { get; private set; }

    public int PrefillConcurrency { get; private set; } = 64;

    public int CompareSends { get; private set; } = 500;

    public Uri? Url { get; private set; }

    public int? ApiPid { get; private set; }

    /// <summary>With <see cref="Url"/>: the Api's own address, for the direct GET.</summary>
    public Uri? ApiUrl { get; private set; }

    public bool ShowHelp { get; private set; }

    /// <summary>The flush delay the started system gets; null = the AppHost's default (20 s).</summary>
    public TimeSpan? FlushDelay { get; private set; }

    public bool Pipeline { get; private set; }

    public int PipelineMessages { get; private set; } = 20_000;

    public int Rate { get; private set; } = 1000;

    public int MaxInFlight { get; private set; } = 64;

    public int BigChat { get; private set; } = 100_000;

    public int Reads { get; private set; } = 300;

    public string? Database { get; private set; }

    /// <summary>
    /// Users registered: the senders share them (registration and login are throttled to 20 a minute; two each), one per
    /// chat in use up to 8. At least two: a chat needs another owner.
    /// </summary>
    public int Users => Math.Clamp(Math.Min(Senders, Chats), 2, 8);

    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BenchOptions();
        int? chats = null;
        var modeGiven = false;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help")
            {
                options.ShowHelp = true;
                continue;
            }

            if (arg == "--pipeline")
            {
                options.Pipeline = true;
                continue;
            }

            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                throw new OptionsException($"Unexpected argument '{arg}'.");
            }

            string name;
            string value;
            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                name = arg[..equals];
                value = arg[(equals + 1)..];
            }
            else
            {
                name = arg;
                if (i + 1 >= args.Count)
                {
                    throw new OptionsException($"Option {name} needs a value.");
                }

                value = args[++i];
            }

            switch (name)
            {
                case "--senders":
                    options.Senders = Integer(name, value, 1, 100_000);
                    break;
                case "--duration":
                    options.DurationSeconds = Integer(name, value, 0, 86_400);
                    break;
                case "--warmup":
                    options.WarmupSeconds = Integer(name, value, 0, 86_400);
                    break;
                case "--chats":
                    chats = Integer(name, value, 1, 100_000);
                    break;
                case "--warmup-next":
                    options.WarmupNextSeconds = Integer(name, value, 0, 86_400);
                    break;
                case "--mode":
                    modeGiven = true;
                    options.Modes = ModeList(value);
                    break;
                case "--message-size":
                    options.MessageSize = Integer(name, value, 1, MaxMessageLength);
                    break;
                case "--prefill":
                    options.Prefill = Integer(name, value, 0, 100_000_000);
                    break;
                case "--prefill-concurrency":
                    options.PrefillConcurrency = Integer(name, value, 1, 10_000);
                    break;
                case "--compare-sends":
                    options.CompareSends = Integer(name, value, 1, 10_000_000);
                    break;
                case "--url":
                    options.Url = BaseUrl(name, value);
                    break;
                case "--api-url":
                    options.ApiUrl = BaseUrl(name, value);
                    break;
                case "--api-pid":
                    options.ApiPid = Integer(name, value, 1, int.MaxValue);
                    break;
                case "--flush-delay":
                    options.FlushDelay = Seconds(name, value, 0.1, 3600);
                    break;
                case "--pipeline-messages":
                    options.PipelineMessages = Integer(name, value, 0, 100_000_000);
                    break;
                case "--rate":
                    options.Rate = Integer(name, value, 1, 1_000_000);
                    break;
                case "--max-in-flight":
                    options.MaxInFlight = Integer(name, value, 1, 10_000);
                    break;
                case "--big-chat":
                    options.BigChat = Integer(name, value, 0, 100_000_000);
                    break;
                case "--reads":
                    options.Reads = Integer(name, value, 1, 10_000_000);
                    break;
                case "--database":
                    options.Database = value;
                    break;
                default:
                    throw new OptionsException($"Unknown option {name}.");
            }
        }

        options.Chats = chats ?? options.Senders;
        if (options.Pipeline)
        {
            CheckPipeline(options, modeGiven);
        }
        else if (options.DurationSeconds == 0 && options.Prefill == 0 && !options.ShowHelp)
        {
            throw new OptionsException("Nothing to do: --duration 0 without --prefill.");
        }

        if (options.FlushDelay is not null && options.Url is not null)
        {
            throw new OptionsException("--flush-delay sets the delay of the system the benchmark starts; a running system (--url) keeps its own.");
        }

        if (options.Database is not null && (options.Url is null || !options.Pipeline))
        {
            throw new OptionsException("--database goes with --url and --pipeline; without --url the benchmark knows its own system's database.");
        }

        if (options.ApiPid is not null && options.Url is null)
        {
            throw new OptionsException("--api-pid goes with --url; without --url the benchmark finds the Api itself.");
        }

        if (options.ApiUrl is not null && options.Url is null)
        {
            throw new OptionsException("--api-url goes with --url; without --url the benchmark knows its own Api's address.");
        }

        return options;
    }

    private static void CheckPipeline(BenchOptions options, bool modeGiven)
    {
        if (modeGiven && options.Modes is not [BenchMode.Post])
        {
            throw new OptionsException("--pipeline sends with POST (its answer carries the seq the end-to-end times need); only --mode post applies.");
        }

        if (options.Prefill > 0)
        {
            throw new OptionsException("--prefill is a run of its own; leave it out with --pipeline (--big-chat is the pipeline's long chat).");
        }

        if (options.PipelineMessages == 0 && options.DurationSeconds == 0 && options.BigChat == 0 && !options.ShowHelp)
        {
            throw new OptionsException("Nothing to do: --pipeline with --pipeline-messages 0, --duration 0 and --big-chat 0.");
        }

        if (options.Url is not null && options.Database is null)
        {
            throw new OptionsException("--pipeline reads the flush progress from PostgreSQL: with --url, also give --database \"Host=...;Port=...;Database=...;Username=...;Password=...\".");
        }
    }

    private static BenchMode[] ModeList(string value)
    {
        var modes = new List<BenchMode>();
        foreach (var part in value.Split(',', StringSplitOptions.TrimEntries))
        {
            var mode = part.ToUpperInvariant() switch
            {
                "PATCH" => BenchMode.Patch,
                "POST" => BenchMode.Post,
                "GET" => BenchMode.Get,
                _ => throw new OptionsException($"--mode takes a comma list of patch, post and get, not '{value}'."),
            };
            if (modes.Contains(mode))
            {
                throw new OptionsException($"--mode names {part} twice: each run is measured once.");
            }

            modes.Add(mode);
        }

        return [.. modes];
    }

    private static TimeSpan Seconds(string name, string value, double min, double max)
    {
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var result) || !(result >= min && result <= max))
        {
            throw new OptionsException(string.Create(CultureInfo.InvariantCulture, $"{name} takes seconds from {min} to {max}, not '{value}'."));
        }

        return TimeSpan.FromSeconds(result);
    }

    private static int Integer(string name, string value, int min, int max)
    {
        if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var result) || result < min || result > max)
        {
            throw new OptionsException(string.Create(CultureInfo.InvariantCulture, $"{name} takes a whole number from {min} to {max}, not '{value}'."));
        }

        return result;
    }

    private static Uri BaseUrl(string name, string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new OptionsException($"{name} takes an http:// or https:// address, not '{value}'.");
        }

        // Request paths are relative ("api/v1/..."): the base must end with '/' so they land under it.
        return uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri.GetLeftPart(UriPartial.Path) + "/");
    }
}
