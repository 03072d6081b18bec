using Aspire.Hosting.ApplicationModel;

namespace SitMessenger.AppHost.Publishing;

/// <summary>
/// Walks the AppHost's model in publish mode, the way Aspire's manifest publisher does, into a
/// <see cref="DeploymentDescription"/> both generators write from: a resource added to Program.cs appears in both.
/// </summary>
internal sealed class DeploymentModelReader(DistributedApplicationModel model, DistributedApplicationExecutionContext execution, DeploymentOptions options)
{
    public async Task<DeploymentDescription> ReadAsync(CancellationToken cancellationToken)
    {
        var resolver = new ValueResolver(options);
        var resources = new List<DeployedResource>();
        foreach (var resource in model.Resources)
        {
            if (resource is ExecutableResource)
            {
                throw new NotSupportedException($"{resource.Name} is an executable; a deployment runs only containers and projects.");
            }

            if (resource is ContainerResource or ProjectResource)
            {
                resources.Add(await ReadAsync(resource, resolver, cancellationToken));
            }
        }

        return new DeploymentDescription(resources, resolver.Secrets);
    }

    private async Task<DeployedResource> ReadAsync(IResource resource, ValueResolver resolver, CancellationToken cancellationToken)
    {
        var endpoints = resource.Annotations.OfType<EndpointAnnotation>()
            .Select(endpoint => new DeployedEndpoint(endpoint.Name, endpoint.UriScheme, resolver.TargetPort(endpoint), endpoint.IsExternal))
            .ToList();
        var kind = resource is ProjectResource
            ? endpoints.Count == 0 ? DeployedKind.Job : DeployedKind.Service
            : DeployedKind.Server;

        var environment = new List<KeyValuePair<string, DeployedValue>>();
        if (resource is IResourceWithEnvironment && resource.TryGetEnvironmentVariables(out var callbacks))
        {
            var variables = new Dictionary<string, object>(StringComparer.Ordinal);
            var context = new EnvironmentCallbackContext(execution, resource, variables, cancellationToken);
            foreach (var callback in callbacks)
            {
                await callback.Callback(context);
            }

            foreach (var (name, value) in variables)
            {
                environment.Add(new(name, await resolver.ResolveAsync(value)));
            }
        }

        var args = new List<DeployedValue>();
        if (resource.TryGetAnnotationsOfType<CommandLineArgsCallbackAnnotation>(out var argCallbacks))
        {
            var values = new List<object>();
            var context = new CommandLineArgsCallbackContext(values, resource, cancellationToken) { ExecutionContext = execution };
            foreach (var callback in argCallbacks)
            {
                await callback.Callback(context);
            }

            foreach (var value in values)
            {
                args.Add(await resolver.ResolveAsync(value));
            }
        }

        var volumes = resource.Annotations.OfType<ContainerMountAnnotation>()
            .Where(mount => mount.Type == ContainerMountType.Volume)
            // Aspire names volumes after a hash of the AppHost's path; a committed deployment must not depend on where it was generated.
            .Select((mount, index) => new DeployedVolume(index == 0 ? $"{resource.Name}-data" : $"{resource.Name}-data-{index}", mount.Target))
            .ToList();

        return new DeployedResource(
            resource.Name,
            kind,
            Image(resource),
            (resource as ContainerResource)?.Entrypoint,
            args,
            environment,
            endpoints,
            volumes,
            resource.Annotations.OfType<SharedStorageAnnotation>().Select(s => new DeployedSharedStorage(s.Name, s.Target)).ToList(),
            resource.Annotations.OfType<WaitAnnotation>()
                .Select(wait => new DeployedWait(Deployed(wait.Resource).Name, wait.WaitType == WaitType.WaitForCompletion))
                .DistinctBy(wait => wait.Resource)
                .ToList(),
            resource.Annotations.OfType<ReplicaAnnotation>().LastOrDefault()?.Replicas,
            resource.Annotations.OfType<HealthCheckAnnotation>().Any());
    }

    /// <summary>A database is waited for as the server it lives on.</summary>
    private static IResource Deployed(IResource resource) =>
        resource is IResourceWithParent child ? Deployed(child.Parent) : resource;

    private string Image(IResource resource)
    {
        if (resource is ProjectResource)
        {
            return $"{options.ImagePrefix}{resource.Name}:{options.ImageTag}";
        }

        var image = resource.Annotations.OfType<ContainerImageAnnotation>().Last();
        var name = image.Registry is { Length: > 0 } registry ? $"{registry}/{image.Image}" : image.Image;
        return image.SHA256 is { Length: > 0 } digest ? $"{name}@sha256:{digest}" : $"{name}:{image.Tag ?? "latest"}";
    }
}
