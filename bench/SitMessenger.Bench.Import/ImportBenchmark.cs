using System.Diagnostics;
using System.Globalization;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using SitMessenger.Testing;
using SitMessenger.Testing.Django;

namespace SitMessenger.Bench.Import;

/// <summary>
/// The Django import's rate: builds an installation of the original (<c>--chats</c> × <c>--messages</c>, default
/// 1,000 × 1,000) on the PostgreSQL of a system it starts, runs the MigrationService's <c>import-django</c> on it as an
/// operator would, and prints messages/s and MB/s of chat files, then the time of a rerun that finds everything there.
/// </summary>
internal static class ImportBenchmark
{
    private static readonly string[] Texts =
    [
        "Hi! Are we still on for tomorrow?", "it's fine, I'll bring the \"good\" coffee", "zażółć gęślą jaźń — see you at 10",
        "ok\nsee you", @"the path is C:\temp\new", "👍",
    ];

    public static async Task<int> Main(string[] args)
    {
        var options = BenchOptions.Parse(args);
        if (options is null)
        {
            Console.Error.WriteLine("usage: dotnet run -c Release --project bench/SitMessenger.Bench.Import -- [--chats 1000] [--messages 1000] [--parallelism 0]");
            return 2;
        }

        Console.WriteLine($"Starting a system (PostgreSQL, Redis, services) ...");
        await using var system = await SitMessengerSystem.StartAsync();
        // The Worker's sweep would start flushing imported chats while the import runs; the figure is the import's own.
        await system.StopResourceAsync("worker");
        await using var source = await DjangoInstallation.CreateAsync(system.GetConnectionString("sitdb"));

        var clock = Stopwatch.StartNew();
        var users = Enumerable.Range(0, 100).Select(i => new DjangoAccount(Guid.NewGuid(), $"bench_{i}_{Guid.NewGuid():N}"[..24], "", "Old-Django-Pass")).ToList();
        await source.AddUsersAsync(users, [], iterations: 1_000);
        var start = DateTime.UtcNow.AddYears(-1);
        await using (var connection = new NpgsqlConnection(source.ConnectionString))
        {
            await connection.OpenAsync();
            for (var c = 0; c < options.Chats; c++)
            {
                var owners = new[] { users[c % users.Count], users[(c + 1) % users.Count] };
                var time = start.AddMinutes(c);
                var lines = new List<DjangoLine>(options.Messages) { new(DjangoInstallation.IsoFormat(time), "", "Beginning of messages") };
                for (var m = 1; m < options.Messages; m++)
                {
                    time = time.AddSeconds(3).AddTicks(10 * m);
                    lines.Add(new DjangoLine(DjangoInstallation.IsoFormat(time), owners[m % 2].Username, Texts[m % Texts.Length]));
                }

                var id = Guid.NewGuid();
                await source.AddChatAsync(new DjangoChatData(id, start.AddMinutes(c), time, [.. owners.Select(o => o.Id)], lines, [], $"{owners[0].Username}-AND-{id:N}.txt"), connection: connection);
            }
        }

        var fileBytes = Directory.EnumerateFiles(Path.Combine(source.MediaRoot, "message_storage")).Sum(f => new FileInfo(f).Length);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Installation: {options.Chats:N0} chats x {options.Messages:N0} messages, {fileBytes / 1e6:N1} MB of chat files, built in {clock.Elapsed.TotalSeconds:N1} s"));

        var masterKey = await system.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ParameterResource>()
            .Single(p => p.Name == "chat-master-key").GetValueAsync(CancellationToken.None);
        string[] arguments = ["import-django", "--database", source.ConnectionString, "--media-root", source.MediaRoot, "--parallelism", options.Parallelism.ToString(CultureInfo.InvariantCulture)];
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__sitdb"] = system.GetConnectionString("sitdb"),
            ["ChatKeyRing__Keys__k1"] = masterKey!,
            ["ChatKeyRing__ActiveKeyId"] = "k1",
            ["Logging__LogLevel__Default"] = "Warning",
        };

        var first = await RunImportAsync(arguments, environment);
        var messages = (long)options.Chats * options.Messages;
        Console.WriteLine(first.Summary);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"import: {messages:N0} messages in {first.Elapsed.TotalSeconds:N1} s (process start to exit): {messages / first.Elapsed.TotalSeconds:N0} messages/s, {fileBytes / 1e6 / first.Elapsed.TotalSeconds:N2} MB/s of chat files; exit {first.ExitCode}"));

        var rerun = await RunImportAsync(arguments, environment);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rerun (everything already there): {rerun.Elapsed.TotalSeconds:N1} s; exit {rerun.ExitCode}; {(rerun.Summary.Contains("Nothing changed", StringComparison.Ordinal) ? "nothing changed" : "CHANGED SOMETHING")}"));
        return first.ExitCode == 0 && rerun.ExitCode == 0 ? 0 : 1;
    }

    private static async Task<(int ExitCode, TimeSpan Elapsed, string Summary)> RunImportAsync(string[] arguments, Dictionary<string, string> environment)
    {
        var startInfo = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true };
        startInfo.ArgumentList.Add(MigrationServiceAssembly());
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            startInfo.Environment[name] = value;
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(startInfo)!;
        var summary = new List<string>();
        var inSummary = false;
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            // Progress lines go by as they come; the summary is kept for the report.
            inSummary |= line.StartsWith("Summary", StringComparison.Ordinal);
            if (inSummary)
            {
                summary.Add(line);
            }
            else
            {
                Console.WriteLine("  " + line);
            }
        }

        await process.WaitForExitAsync();
        return (process.ExitCode, clock.Elapsed, string.Join(Environment.NewLine, summary));
    }

    // Built beside this benchmark in the same configuration (the project reference above).
    private static string MigrationServiceAssembly()
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, "SitMessenger.MigrationService", "bin", configuration, "net10.0", "SitMessenger.MigrationService.dll");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("SitMessenger.MigrationService.dll is not built: dotnet build -c " + configuration);
    }
}

internal sealed record BenchOptions(int Chats, int Messages, int Parallelism)
{
    public static BenchOptions? Parse(string[] args)
    {
        var options = new BenchOptions(1_000, 1_000, 0);
        for (var i = 0; i < args.Length; i++)
        {
            if (i + 1 >= args.Length || !int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                return null;
            }

            options = args[i] switch
            {
                "--chats" when value > 0 => options with { Chats = value },
                "--messages" when value > 0 => options with { Messages = value },
                "--parallelism" => options with { Parallelism = value },
                _ => null,
            };
            if (options is null)
            {
                return null;
            }

            i++;
        }

        return options;
    }
}
