namespace SitMessenger.AppHost.Publishing;

/// <summary>What a deployment needs to know of one resource of the AppHost's model, in neither output's terms.</summary>
internal enum DeployedKind
{
    /// <summary>A container image the model names (PostgreSQL, Redis, RabbitMQ): a StatefulSet with a volume.</summary>
    Server,

    /// <summary>One of our projects with an endpoint: a Deployment behind a Service.</summary>
    Service,

    /// <summary>One of our projects without an endpoint that others wait to complete (the migrator): a Job.</summary>
    Job,
}

internal sealed record DeployedEndpoint(string Name, string Scheme, int TargetPort, bool External);

internal sealed record DeployedVolume(string Name, string Target);

/// <summary>A volume every replica shares (segment files, the ACME store): ReadWriteMany in Kubernetes.</summary>
internal sealed record DeployedSharedStorage(string Name, string Target);

internal sealed record DeployedWait(string Resource, bool Completion);

internal sealed record DeployedResource(
    string Name,
    DeployedKind Kind,
    string Image,
    string? Entrypoint,
    IReadOnlyList<DeployedValue> Args,
    IReadOnlyList<KeyValuePair<string, DeployedValue>> Environment,
    IReadOnlyList<DeployedEndpoint> Endpoints,
    IReadOnlyList<DeployedVolume> Volumes,
    IReadOnlyList<DeployedSharedStorage> SharedStorage,
    IReadOnlyList<DeployedWait> Waits,
    int? Replicas,
    bool HasHealthChecks)
{
    public bool IsProject => Kind is DeployedKind.Service or DeployedKind.Job;
}

/// <summary>A secret parameter of the model: a variable of the generated env file.</summary>
internal sealed record DeployedSecret(string Parameter, string Variable, int Length);

internal sealed record DeploymentDescription(IReadOnlyList<DeployedResource> Resources, IReadOnlyList<DeployedSecret> Secrets)
{
    public DeployedResource this[string name] => Resources.Single(resource => resource.Name == name);
}

/// <summary>
/// A value of the model in publish mode: literal text and references to secrets, which each output writes its own way
/// (<c>${X}</c> from Compose's .env, <c>$(X)</c> from a Kubernetes Secret).
/// </summary>
internal sealed record DeployedValue(IReadOnlyList<DeployedValuePart> Parts)
{
    public static DeployedValue Literal(string text) => new([new DeployedValuePart(text, null)]);

    public bool IsLiteral => Parts.All(part => part.Secret is null);

    public IEnumerable<string> Secrets => Parts.Where(part => part.Secret is not null).Select(part => part.Secret!);

    public string Render(Func<string, string> secret, Func<string, string> literal) =>
        string.Concat(Parts.Select(part => part.Secret is { } name ? secret(name) : literal(part.Text)));

    public override string ToString() => Render(name => $"{{{name}}}", text => text);
}

internal sealed record DeployedValuePart(string Text, string? Secret);
