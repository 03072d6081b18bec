namespace SitMessenger.AppHost.Extensions;

/// <summary>How this AppHost runs the model. Bound from the "AppHost" configuration section (and the switches below).</summary>
internal sealed class AppHostOptions
{
    public const string SectionName = "AppHost";

    /// <summary>Folder for server data, generated secrets and segment files. Defaults to <c>.state</c> in the working copy.</summary>
    public string? StateDirectory { get; set; }

    /// <summary>Where the SIT web client looks for the API by default. 0 picks a free port.</summary>
    public int GatewayPort { get; set; } = 8000;

    /// <summary>The Gateway's HTTPS port (a self-signed localhost certificate unless ACME is configured). 0 picks a free port.</summary>
    public int GatewayHttpsPort { get; set; } = 8443;

    /// <summary>How many Api processes run behind the Gateway.</summary>
    public int ApiReplicas { get; set; } = 1;

    /// <summary>
    /// Run PostgreSQL, Redis and RabbitMQ as Aspire's containers in run mode too (needs a container engine; untested here,
    /// where none runs). Publish mode always describes them as containers.
    /// </summary>
    public bool UseContainers { get; set; }

    /// <summary>Host names the dashboard answers to (ASP.NET Core's AllowedHosts, ';'-separated); any other gets 400.</summary>
    public string DashboardAllowedHosts { get; set; } = "localhost;127.0.0.1;[::1]";

    public static readonly Dictionary<string, string> CommandLineSwitches = new(StringComparer.Ordinal)
    {
        ["--state-dir"] = $"{SectionName}:{nameof(StateDirectory)}",
        ["--gateway-port"] = $"{SectionName}:{nameof(GatewayPort)}",
        ["--gateway-https-port"] = $"{SectionName}:{nameof(GatewayHttpsPort)}",
        ["--api-replicas"] = $"{SectionName}:{nameof(ApiReplicas)}",
        ["--use-containers"] = $"{SectionName}:{nameof(UseContainers)}",
    };
}
