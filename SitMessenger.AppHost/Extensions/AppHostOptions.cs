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

    /// <summary>
    /// Run the services from the assembly the build produced (<c>dotnet exec</c>); false goes back to Aspire's default,
    /// <c>dotnet run --no-build</c> per service (an MSBuild evaluation at every start, and a wrapper process each).
    /// </summary>
    public bool RunServicesFromBuildOutput { get; set; } = true;

    /// <summary>Host names the dashboard answers to (ASP.NET Core's AllowedHosts, ';'-separated); any other gets 400.</summary>
    public string DashboardAllowedHosts { get; set; } = "localhost;127.0.0.1;[::1]";

    /// <summary>
    /// Opt-in, off by default: the original Django installation's PostgreSQL (Npgsql keyword format) to import once, as
    /// the one-shot resource <c>django-import</c> after the migrations. With <see cref="ImportDjangoMediaRoot"/> and,
    /// if its cache still holds messages, <see cref="ImportDjangoRedis"/>. A rerun imports only what is not there yet.
    /// </summary>
    public string? ImportDjangoFrom { get; set; }

    /// <summary>The original's MEDIA_ROOT (the folder holding <c>message_storage/</c>).</summary>
    public string? ImportDjangoMediaRoot { get; set; }

    /// <summary>The original's Redis, <c>host:port</c>; its database 1 held the unflushed messages.</summary>
    public string? ImportDjangoRedis { get; set; }

    public static readonly Dictionary<string, string> CommandLineSwitches = new(StringComparer.Ordinal)
    {
        ["--state-dir"] = $"{SectionName}:{nameof(StateDirectory)}",
        ["--gateway-port"] = $"{SectionName}:{nameof(GatewayPort)}",
        ["--gateway-https-port"] = $"{SectionName}:{nameof(GatewayHttpsPort)}",
        ["--api-replicas"] = $"{SectionName}:{nameof(ApiReplicas)}",
        ["--use-containers"] = $"{SectionName}:{nameof(UseContainers)}",
        ["--import-django-from"] = $"{SectionName}:{nameof(ImportDjangoFrom)}",
        ["--import-django-media-root"] = $"{SectionName}:{nameof(ImportDjangoMediaRoot)}",
        ["--import-django-redis"] = $"{SectionName}:{nameof(ImportDjangoRedis)}",
    };
}
