using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using SitMessenger.Hosting.LocalServers;
using SitMessenger.Testing;

namespace SitMessenger.Bench.RealTime;

/// <summary>
/// Real-time delivery under idle connections: starts its own system, opens 32 (--chats) active chats through the
/// Gateway, then for 0 and each --receivers count of idle hub connections measures the Api's memory, send-to-receive
/// latency at --rate msg/s, and the send throughput when every chat sends as fast as its answers come back.
/// </summary>
internal static class RealTimeBenchmark
{
    private static readonly long StartedAt = Stopwatch.GetTimestamp();

    public static async Task<int> Main(string[] args)
    {
        var options = BenchArgs.Parse(args);
        if (options is null)
        {
            Console.Error.WriteLine("usage: [--receivers 1000,10000] [--chats 32] [--rate 1000] [--duration 15] [--saturate 10] "
                + "[--api-replicas 1] [--idle-users 100] [--idle-via-gateway]");
            return 2;
        }

        Progress("Starting a complete system (PostgreSQL, Redis, RabbitMQ, migrations, Api, Worker, Scheduler, Gateway)...");
        await using var app = await SitMessengerSystem.StartAsync(new Dictionary<string, string?>
        {
            // One address and a few users send everything here: the limits would measure themselves.
            ["Services:gateway:RateLimits:Enabled"] = "false",
            ["Services:api:RealTime:ConnectionsPerUser"] = "1000000",
            ["Services:api:RealTime:SendsPerWindow"] = "1000000000",
            ["Services:api:LoginThrottle:AttemptsPerAddress"] = "1000000",
            ["AppHost:ApiReplicas"] = options.ApiReplicas.ToString(CultureInfo.InvariantCulture),
        }, progress: Progress, consoleLogs: false);
        var gateway = app.GetEndpoint("gateway");
        var apiServers = app.Replicas("api").Select(r => app.GetEndpoint(r.Name)).ToList();
        using var http = new HttpClient { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(60) };

        Progress($"Registering {(2 * options.Chats) + options.IdleUsers} users...");
        var users = new BenchUser[(2 * options.Chats) + options.IdleUsers];
        await Parallel.ForEachAsync(Enumerable.Range(0, users.Length), new ParallelOptions { MaxDegreeOfParallelism = 4 },
            async (i, _) => users[i] = await RegisterAsync(http, i));

        await using var active = new ActiveChats();
        for (var c = 0; c < options.Chats; c++)
        {
            await active.AddAsync(gateway, http, users[2 * c], users[(2 * c) + 1]);
        }

        var idleTokens = users[(2 * options.Chats)..].Select(u => u.Access).ToList();
        await using var idle = new IdleConnections();
        Progress("Warming up...");
        // Long enough for the JIT and the pools on both sides: the first row would otherwise measure start-up.
        await active.RunAsync("warm-up", options.Rate, TimeSpan.FromSeconds(10));
        await active.RunAsync("warm-up", 0, TimeSpan.FromSeconds(5));

        var rows = new List<string>();
        foreach (var receivers in new[] { 0 }.Concat(options.Receivers))
        {
            var watch = Stopwatch.StartNew();
            Progress($"Opening idle connections up to {receivers} ({(options.IdleViaGateway ? "through the Gateway" : "straight to the Api")})...");
            for (var r = 0; r < apiServers.Count; r++)
            {
                var target = options.IdleViaGateway ? gateway : apiServers[r];
                await idle.GrowToAsync(receivers * (r + 1) / apiServers.Count, target, idleTokens, parallel: 32);
            }

            Progress($"{idle.Count} idle connections open in {watch.Elapsed.TotalSeconds:0.0} s ({idle.Failed} failed); settling 5 s...");
            await Task.Delay(TimeSpan.FromSeconds(5));
            var memory = ApiMemoryMiB(app);
            Progress($"Sending at {options.Rate} msg/s for {options.Duration.TotalSeconds} s...");
            var paced = await active.RunAsync("paced", options.Rate, options.Duration);
            var saturated = options.Saturate > TimeSpan.Zero ? await active.RunAsync("saturated", 0, options.Saturate) : null;
            rows.Add(Row(idle.Count, memory, paced, saturated));
            Progress(rows[^1]);
        }

        var baseline = ParseMemory(rows[0]);
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Real-time benchmark: {options.Chats} active chats (sender and receiver through the Gateway, hub Send), {options.ApiReplicas} Api replica(s), "
            + $"idle connections {(options.IdleViaGateway ? "through the Gateway" : "straight to the Api")} over {options.IdleUsers} users; {Environment.ProcessorCount} cores."));
        Console.WriteLine(FormattableString.Invariant($"idle conns | Api RSS MiB | KiB/idle conn | sent msg/s (target {options.Rate}) | send-to-receive p50 / p99 / max ms | errors | saturated msg/s | p50 / p99 ms"));
        foreach (var row in rows)
        {
            var perConnection = ParseConnections(row) is > 0 and var n ? (ParseMemory(row) - baseline) * 1024 / n : double.NaN;
            Console.WriteLine(row.Replace("{per}", double.IsNaN(perConnection) ? "-" : perConnection.ToString("0.0", CultureInfo.InvariantCulture), StringComparison.Ordinal));
        }

        Console.WriteLine("Aims: p99 send-to-receive <= 50 ms at 1,000 msg/s with 1,000 receivers; 10,000 idle connections in <= 300 MiB of Api memory.");
        return 0;
    }

    private static string Row(int connections, double memory, RunFigures paced, RunFigures? saturated)
    {
        var tail = saturated is null ? "-" : FormattableString.Invariant(
            $"{saturated.SendsPerSecond,15:0} | {saturated.Percentile(50):0.0} / {saturated.Percentile(99):0.0}");
        return FormattableString.Invariant(
            $"{connections,10} | {memory,11:0.0} | {"{per}",13} | {paced.Name} {paced.SendsPerSecond,8:0} | {paced.Percentile(50),6:0.0} / {paced.Percentile(99),6:0.0} / {paced.Percentile(100),7:0.0} | {paced.Errors,6} | {tail}");
    }

    private static double ParseMemory(string row) => double.Parse(row.Split('|')[1], CultureInfo.InvariantCulture);

    private static int ParseConnections(string row) => int.Parse(row.Split('|')[0], CultureInfo.InvariantCulture);

    /// <summary>The resident memory of every Api replica's own process (not the <c>dotnet run</c> DCP starts it under).</summary>
    private static double ApiMemoryMiB(SitMessengerSystem app)
    {
        double total = 0;
        foreach (var replica in app.Replicas("api"))
        {
            if (replica.ProcessId is int launcher)
            {
                var status = File.ReadAllLines($"/proc/{LocalProcessTable.Deepest(launcher)}/status");
                var rss = status.First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
                total += double.Parse(rss["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024;
            }
        }

        return total;
    }

    private static async Task<BenchUser> RegisterAsync(HttpClient http, int index)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryRegisterAsync(http, index);
            }
            catch (HttpRequestException e) when (attempt < 3)
            {
                Progress($"registering user {index} failed ({e.Message}); trying again");
            }
        }
    }

    private static async Task<BenchUser> TryRegisterAsync(HttpClient http, int index)
    {
        var username = $"rtbench_{index}_{Guid.NewGuid():N}"[..30];
        var password = "Lantern-" + Guid.NewGuid().ToString("N")[..12] + "-Quay";
        using var registered = await http.PostAsJsonAsync("/api/auth/users/", new { username, password });
        if (!registered.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{(int)registered.StatusCode}: {await registered.Content.ReadAsStringAsync()}");
        }

        var id = (await registered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        using var login = await http.PostAsJsonAsync("/api/auth/jwt/create/", new { username, password });
        login.EnsureSuccessStatusCode();
        var access = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access").GetString()!;
        return new BenchUser(id, username, access);
    }

    private static void Progress(string message) =>
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{Stopwatch.GetElapsedTime(StartedAt).TotalSeconds,6:0.0}s] {message}"));
}

internal sealed record BenchArgs(
    IReadOnlyList<int> Receivers, int Chats, double Rate, TimeSpan Duration, TimeSpan Saturate, int ApiReplicas, int IdleUsers, bool IdleViaGateway)
{
    public static BenchArgs? Parse(string[] args)
    {
        var options = new BenchArgs([1000, 10000], 32, 1000, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(10), 1, 100, false);
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            try
            {
                options = args[i] switch
                {
                    "--receivers" => options with { Receivers = [.. Next().Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))] },
                    "--chats" => options with { Chats = int.Parse(Next(), CultureInfo.InvariantCulture) },
                    "--rate" => options with { Rate = double.Parse(Next(), CultureInfo.InvariantCulture) },
                    "--duration" => options with { Duration = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)) },
                    "--saturate" => options with { Saturate = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)) },
                    "--api-replicas" => options with { ApiReplicas = int.Parse(Next(), CultureInfo.InvariantCulture) },
                    "--idle-users" => options with { IdleUsers = int.Parse(Next(), CultureInfo.InvariantCulture) },
                    "--idle-via-gateway" => options with { IdleViaGateway = true },
                    _ => throw new ArgumentException($"unknown option {args[i]}"),
                };
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                Console.Error.WriteLine(e.Message);
                return null;
            }
        }

        return options.Chats >= 1 && options.Rate > 0 && options.IdleUsers >= 1 && options.ApiReplicas >= 1 ? options : null;
    }
}
