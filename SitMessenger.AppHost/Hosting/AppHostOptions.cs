namespace SitMessenger.AppHost.Hosting;

/// <summary>Where and how the AppHost runs the model. Bound from the "AppHost" configuration section.</summary>
public sealed class AppHostOptions
{
    public const string SectionName = "AppHost";

    /// <summary>Folder for server data, generated secrets and logs. Defaults to <c>.state</c> in the working copy.</summary>
    public string? StateDirectory { get; set; }

    /// <summary>Where the SIT web client looks for the API by default. 0 picks a free port.</summary>
    public int GatewayPort { get; set; } = 8000;

    /// <summary>The Gateway's HTTPS port (a self-signed localhost certificate unless ACME is configured). 0 picks a free port.</summary>
    public int GatewayHttpsPort { get; set; } = 8443;

    /// <summary>The dashboard's port. 0 picks a free port; -1 turns the dashboard off.</summary>
    public int DashboardPort { get; set; } = 18888;

    /// <summary>How many Api processes run behind the Gateway.</summary>
    public int ApiReplicas { get; set; } = 1;

    /// <summary>Folders searched for server binaries, separated by ':'. Defaults to PATH plus Debian's private folders.</summary>
    public string? BinarySearchPath { get; set; }

    /// <summary>How long one resource may take to become healthy before start-up is abandoned.</summary>
    public TimeSpan StartupTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a process gets to stop after the stop signal before it is killed.</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Print progress and the resource table to the console.</summary>
    public bool ConsoleOutput { get; set; } = true;

    public static readonly Dictionary<string, string> CommandLineSwitches = new(StringComparer.Ordinal)
    {
        ["--state-dir"] = $"{SectionName}:{nameof(StateDirectory)}",
        ["--gateway-port"] = $"{SectionName}:{nameof(GatewayPort)}",
        ["--gateway-https-port"] = $"{SectionName}:{nameof(GatewayHttpsPort)}",
        ["--dashboard-port"] = $"{SectionName}:{nameof(DashboardPort)}",
        ["--binary-path"] = $"{SectionName}:{nameof(BinarySearchPath)}",
    };
}
