using System.Diagnostics;
using System.Globalization;
using System.Text;
using SitMessenger.Hosting.LocalServers;

namespace SitMessenger.SystemTests.Infrastructure;

/// <summary>The AppHost run as users run it, as its own process, on free ports, with its output kept.</summary>
internal sealed class AppHostProcess : IDisposable
{
    private readonly StringBuilder _output = new();
    private readonly Lock _gate = new();

    private AppHostProcess(Process process) => Process = process;

    public Process Process { get; }

    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

    public static AppHostProcess Start(string stateDirectory)
    {
        var apphost = Path.Combine(AppContext.BaseDirectory, "SitMessenger.AppHost.dll");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var startInfo = new ProcessStartInfo(dotnet)
        {
            ArgumentList = { apphost, "--state-dir", stateDirectory, "--gateway-port", "0", "--gateway-https-port", "0" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // What the launch profile sets for `dotnet run`, on free ports so several can run at once.
        startInfo.Environment["ASPNETCORE_URLS"] = Url(LoopbackPorts.GetFreePort());
        startInfo.Environment["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = Url(LoopbackPorts.GetFreePort());
        startInfo.Environment["ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL"] = Url(LoopbackPorts.GetFreePort());
        startInfo.Environment["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = "true";
        startInfo.Environment["DOTNET_ENVIRONMENT"] = "Development";
        var process = Process.Start(startInfo) ?? throw new InvalidOperationException("the AppHost did not start");
        var started = new AppHostProcess(process);
        process.OutputDataReceived += (_, e) => started.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => started.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return started;
    }

    /// <summary>True once the process has exited within <paramref name="timeout"/> and all it printed is in <see cref="Output"/>.</summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        if (!Process.WaitForExit(timeout))
        {
            return false;
        }

        // The timed wait returns before the asynchronous readers have delivered the last lines; this one waits for them.
        Process.WaitForExit();
        return true;
    }

    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            Assert.False(Process.HasExited, $"the AppHost exited with {(Process.HasExited ? Process.ExitCode : 0)}:{Environment.NewLine}{Output}");
            Assert.True(clock.Elapsed < timeout, $"'{text}' not printed within {timeout.TotalSeconds:0} s:{Environment.NewLine}{Output}");
            await Task.Delay(200);
        }
    }

    private void Keep(string? line)
    {
        if (line is not null)
        {
            lock (_gate)
            {
                _output.AppendLine(line);
            }
        }
    }

    private static string Url(int port) => string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}");

    public void Dispose() => Process.Dispose();
}
