namespace SitMessenger.AppHost.Publishing;

/// <summary>
/// Everything the Compose and Kubernetes outputs choose that the AppHost's model does not say: image names, ports
/// seen from outside, sizes. Bound from the "Deployment" configuration section, so an operator can change a default
/// with <c>--Deployment:ImageTag=1.2.0</c>; the kustomization overlays the rest.
/// </summary>
internal sealed class DeploymentOptions
{
    public const string SectionName = "Deployment";

    /// <summary>The publishers the AppHost knows, as <c>--publisher</c> takes them.</summary>
    public static readonly IReadOnlyList<string> Publishers = ["manifest", "compose", "kubernetes"];

    /// <summary>Prefix of the services' image repositories (<c>sitmessenger-api</c>, ...); the csproj files name the same.</summary>
    public string ImagePrefix { get; set; } = "sitmessenger-";

    public string ImageTag { get; set; } = "latest";

    public string Namespace { get; set; } = "sitmessenger";

    /// <summary>
    /// The Gateway's public domain, for its ACME certificate (<c>Acme__Domains__0</c> in its ConfigMap). None by default:
    /// a domain needs an accepted CA terms of service too, or the Gateway refuses to start, so an overlay sets all three.
    /// </summary>
    public string Domain { get; set; } = "";

    /// <summary>Replicas of each service that runs several when the model does not say (Worker, Gateway, Scheduler).</summary>
    public int DefaultReplicas { get; set; } = 2;

    /// <summary>Where Compose publishes the Gateway's HTTP and HTTPS endpoints on the host.</summary>
    public int PublicHttpPort { get; set; } = 80;

    public int PublicHttpsPort { get; set; } = 443;

    /// <summary>A project endpoint the model gives no port gets the one .NET's container images listen on.</summary>
    public int DefaultHttpTargetPort { get; set; } = 8080;

    public int DefaultHttpsTargetPort { get; set; } = 8443;

    public string DashboardImage { get; set; } = "mcr.microsoft.com/dotnet/aspire-dashboard:13.6";

    public int DashboardPort { get; set; } = 18888;

    public int DashboardOtlpPort { get; set; } = 18889;

    /// <summary>kubectl image of the init container that holds a service until the migrator's Job has completed.</summary>
    public string WaitImage { get; set; } = "docker.io/bitnami/kubectl:1.32";

    public string CpuRequest { get; set; } = "100m";

    public string CpuLimit { get; set; } = "1";

    public string MemoryRequest { get; set; } = "256Mi";

    public string MemoryLimit { get; set; } = "1Gi";

    public string ServerStorageSize { get; set; } = "10Gi";

    public string SharedStorageSize { get; set; } = "20Gi";

    /// <summary>StorageClass of the ReadWriteMany claims (an NFS or CephFS class); empty takes the cluster's default.</summary>
    public string SharedStorageClass { get; set; } = "";

    /// <summary>Secrets are generated as letters and digits, so they need no escaping in URIs, shells or env files.</summary>
    public int MinimumSecretLength { get; set; } = 32;
}
