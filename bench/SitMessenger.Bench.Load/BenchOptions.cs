using System.Globalization;

namespace SitMessenger.Bench.Load;

internal enum SendMode
{
    /// <summary><c>POST /api/v1/chat/{id}/messages/</c> with <c>{"message": ...}</c>: the light send.</summary>
    Post,

    /// <summary><c>PATCH /api/v1/chat/{id}/</c> with <c>{"new_message": ...}</c>: answers with the last 100 messages.</summary>
    Patch,
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
          --warmup S               seconds of sending before the measurement (default 5)
          --chats N                chats the senders send into, shared round-robin (default = senders)
          --mode post|patch        post = POST /api/v1/chat/{id}/messages/ (default), patch = PATCH /api/v1/chat/{id}/
          --message-size N         characters per message, 1..3750 (default 100)
          --prefill N              also send N messages into one extra chat, then compare send latency there
                                   with a fresh empty chat (default 0 = off)
          --prefill-concurrency N  concurrent posts while prefilling (default 64)
          --compare-sends N        sequential sends into each of the two chats for that comparison (default 500)
          --url URL                use an already running Gateway (e.g. http://localhost:8000) instead of
                                   starting a system of its own
          --api-pid N              with --url: the Api's process id, to report its memory
          -h, --help               this text

        Without --url it starts a complete system (PostgreSQL, Redis, RabbitMQ, every service) on free ports in a
        temporary state folder, exactly as the system tests do, and removes it at the end.
        Registration and login are throttled to 20 per minute per address: it registers at most 8 users, which
        the senders share.
        """;

    public int Senders { get; private set; } = 32;

    public int DurationSeconds { get; private set; } = 20;

    public int WarmupSeconds { get; private set; } = 5;

    public int Chats { get; private set; }

    public SendMode Mode { get; private set; } = SendMode.Post;

    public int MessageSize { get; private set; } = 100;

    public int Prefill { get; private set; }

    public int PrefillConcurrency { get; private set; } = 64;

    public int CompareSends { get; private set; } = 500;

    public Uri? Url { get; private set; }

    public int? ApiPid { get; private set; }

    public bool ShowHelp { get; private set; }

    /// <summary>
    /// Users registered: the senders share them (registration and login are throttled to 20 a minute; two each), one per
    /// chat in use up to 8. At least two: a chat needs another owner.
    /// </summary>
    public int Users => Math.Clamp(Math.Min(Senders, Chats), 2, 8);

    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BenchOptions();
        int? chats = null;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help")
            {
                options.ShowHelp = true;
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
                case "--mode":
                    options.Mode = value.ToUpperInvariant() switch
                    {
                        "POST" => SendMode.Post,
                        "PATCH" => SendMode.Patch,
                        _ => throw new OptionsException($"--mode is post or patch, not '{value}'."),
                    };
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
                    options.Url = GatewayUrl(value);
                    break;
                case "--api-pid":
                    options.ApiPid = Integer(name, value, 1, int.MaxValue);
                    break;
                default:
                    throw new OptionsException($"Unknown option {name}.");
            }
        }

        options.Chats = chats ?? options.Senders;
        if (options.DurationSeconds == 0 && options.Prefill == 0 && !options.ShowHelp)
        {
            throw new OptionsException("Nothing to do: --duration 0 without --prefill.");
        }

        if (options.ApiPid is not null && options.Url is null)
        {
            throw new OptionsException("--api-pid goes with --url; without --url the benchmark finds the Api itself.");
        }

        return options;
    }

    private static int Integer(string name, string value, int min, int max)
    {
        if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var result) || result < min || result > max)
        {
            throw new OptionsException(string.Create(CultureInfo.InvariantCulture, $"{name} takes a whole number from {min} to {max}, not '{value}'."));
        }

        return result;
    }

    private static Uri GatewayUrl(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new OptionsException($"--url takes an http:// or https:// address, not '{value}'.");
        }

        // Request paths are relative ("api/v1/..."): the base must end with '/' so they land under it.
        return uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri.GetLeftPart(UriPartial.Path) + "/");
    }
}
