using System.Diagnostics;
using SitMessenger.Hosting.LocalServers;

namespace SitMessenger.UnitTests.Hosting;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class LocalServerTests
{
    [Fact]
    public void A_missing_server_binary_names_the_debian_package_that_brings_it()
    {
        var empty = Directory.CreateTempSubdirectory("sit-nobin-").FullName;
        try
        {
            var binaries = new ServerBinaries(empty);
            var error = Assert.Throws<ServerBinaryNotFoundException>(() => binaries.Find(new ServerBinary("redis-server", "redis-server"), "cache"));
            Assert.Equal("cache", error.ResourceName);
            Assert.Contains("'redis-server' was not found", error.Message, StringComparison.Ordinal);
            Assert.Contains(empty, error.Message, StringComparison.Ordinal);
            Assert.EndsWith("sudo apt-get install -y redis-server", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    [Fact]
    public void A_binary_on_the_search_path_is_found_there()
    {
        var folder = Directory.CreateTempSubdirectory("sit-bin-").FullName;
        try
        {
            var path = Path.Combine(folder, "postgres");
            File.WriteAllText(path, "");
            Assert.Equal(path, new ServerBinaries($"/nonexistent:{folder}").Find(new ServerBinary("postgres", "postgresql"), "postgres"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task The_launcher_passes_arguments_through_unexpanded_and_turns_the_stop_signal_into_the_servers_own()
    {
        var folder = Directory.CreateTempSubdirectory("sit-launcher-").FullName;
        try
        {
            // A stand-in "server": once ready for signals it reports its arguments, then says which signal it got. Perl, not
            // sh: a shell started in the background with & may not trap SIGINT, while real servers (PostgreSQL) set their own handlers.
            var server = Path.Combine(folder, "server.pl");
            File.WriteAllText(server, """
                #!/usr/bin/perl
                sub stop { open(my $f, '>', "$0.signal"); print $f "$_[0]\n"; close($f); exit 0; }
                $SIG{INT} = \&stop;
                $SIG{TERM} = \&stop;
                open(my $a, '>', "$0.tmp"); print $a join('', map { "$_|" } @ARGV); close($a); rename("$0.tmp", "$0.args");
                sleep 1 while 1;
                """);
            File.SetUnixFileMode(server, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var launcher = await new LauncherScript(server, ["-c", "it's $HOME", "a b"]) { StopSignal = "INT" }.WriteAsync(folder, CancellationToken.None);

            using var process = Process.Start(new ProcessStartInfo("/bin/sh") { ArgumentList = { launcher } })!;
            var clock = Stopwatch.StartNew();
            while (!File.Exists(server + ".args") && clock.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(50);
            }

            Assert.Equal("-c|it's $HOME|a b|", File.ReadAllText(server + ".args"));
            Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(10)), "the launcher did not end after its server stopped");
            Assert.Equal("INT", File.ReadAllText(server + ".signal").Trim());
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void The_launcher_switches_to_the_service_account_only_when_run_as_root()
    {
        var script = new LauncherScript("/usr/lib/postgresql/15/bin/postgres", ["-D", "/data"]) { Account = "postgres" }.Render();
        if (Environment.UserName == "root")
        {
            Assert.Contains("'setpriv' --reuid='postgres' --regid='postgres' --init-groups -- '/usr/lib/postgresql/15/bin/postgres' '-D' '/data' &", script, StringComparison.Ordinal);
        }
        else
        {
            Assert.DoesNotContain("setpriv", script, StringComparison.Ordinal);
        }
    }
}
